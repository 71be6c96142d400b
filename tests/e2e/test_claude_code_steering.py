"""The real Claude Code against steering: a request dropped in the dashboard stops the run
(no retry, the reason shown), and the slash commands that `fusion-tui claude
install-commands` writes steer the proxy for Claude Code's own session."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from fusion_tui import cli_remote
from fusion_tui.events import Event, RequestReceived, ResponseFinished, SteeringApplied
from tests.e2e.claude_code import claude_bin, run_claude

pytestmark = pytest.mark.e2e


def slow(uid: str, **extra: object) -> dict[str, object]:
    return {"id": uid, "type": "simulated", "model": uid, "first_token_ms": 5,
            "tokens_per_s": 2000, **extra}


def messages_requests(events: list[Event]) -> list[RequestReceived]:
    return [e for e in events if isinstance(e, RequestReceived)
            and e.path.startswith("/v1/messages") and "count_tokens" not in e.path]


@pytest.mark.parametrize("stream_open", [False, True], ids=["before-answer", "mid-stream"])
async def test_a_dropped_request_stops_claude_code_without_a_retry(
        make_settings, start_proxy, tmp_path: Path, stream_open: bool) -> None:
    claude_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    actor = (slow("stuck", first_token_ms=5, tokens_per_s=3) if stream_open
             else slow("stuck", first_token_ms=60_000))
    runtime = await start_proxy(make_settings(upstreams=[actor]))
    events: list[Event] = []
    runtime.bus.listen(events.append)

    async def drop_when_in_flight() -> str:
        """Drop the agent's turn (the request with the prompt, not a side request)."""
        for _ in range(3000):
            turns = [e.request_id for e in messages_requests(events)
                     if e.body and "say hello" in json.dumps(e.body.get("messages"))]
            if turns and turns[0] in runtime.state.controls.inflight:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0 if stream_open else 0.2)  # mid-stream: a few tokens out
        runtime.state.controls.drop(turns[0])
        return turns[0]

    dropper = asyncio.ensure_future(drop_when_in_flight())
    run = await run_claude(runtime.address, workdir, tmp_path / "home", "say hello",
                           timeout_s=120, env_extra={"CLAUDE_CODE_MAX_RETRIES": "3"})
    dropped = await dropper
    assert run.result.get("is_error") is True, run.result
    assert "dropped by a person in the fusion-tui dashboard" in run.result["result"]
    turns = [e for e in messages_requests(events)
             if e.body and "say hello" in json.dumps(e.body.get("messages"))]
    assert turns[0].request_id == dropped
    # Claude Code falls back to a non-streaming request and retries that: each comes back
    # at once with the same 400, and none reaches an upstream again
    again = {e.request_id for e in turns[1:]}
    assert all(not e.body.get("stream") for e in turns[1:])  # type: ignore[union-attr]
    finished = {e.request_id: e for e in events if isinstance(e, ResponseFinished)}
    answers = [(finished[r].status, finished[r].route) for r in again | {dropped}]
    assert all(status == 400 and route.endswith("override:ui,dropped")
               for status, route in answers), answers
    assert not [e for e in events if e.kind == "route_chosen" and e.request_id in again]

async def test_slash_commands_steer_claude_codes_own_session(
        make_settings, start_proxy, tmp_path: Path) -> None:
    claude_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    for line in cli_remote.install_commands(workdir / ".claude" / "commands"):
        assert line.startswith("wrote ")
    runtime = await start_proxy(make_settings(upstreams=[slow("sim-actor")]))
    events: list[Event] = []
    runtime.bus.listen(events.append)
    bin_dir = str(Path(sys.executable).parent)
    run = await run_claude(
        runtime.address, workdir, tmp_path / "home", "/tier plan",
        "--allowedTools", "Bash(fusion-tui steer:*)", timeout_s=120,
        env_extra={"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                   "FUSION_URL": runtime.address,
                   "FUSION_CONTROL_TOKEN": runtime.state.control_token})
    assert run.returncode == 0, run.stderr[-2000:]
    session = run.result["session_id"]
    acts = [e for e in events if isinstance(e, SteeringApplied)]
    assert [(a.action, a.session_id, a.value, a.source) for a in acts] == [
        ("force_tier", session, "plan", "claude")]
    routed = [e for e in events if e.kind == "route_chosen" and e.session_id == session]
    assert routed and routed[0].tier == "plan"  # type: ignore[attr-defined]
    assert "override:claude" in routed[0].route  # type: ignore[attr-defined]
