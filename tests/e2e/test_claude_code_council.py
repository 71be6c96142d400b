"""The real Claude Code CLI with every turn forced to plan and a council of simulated
advisors: the tool round trip still completes, and the meeting is in the recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.claude_code import claude_bin, run_claude

pytestmark = pytest.mark.e2e


def sim(uid: str) -> dict[str, object]:
    return {"id": uid, "type": "simulated", "model": uid, "first_token_ms": 5,
            "tokens_per_s": 3000}


async def test_claude_code_round_trip_through_a_council(make_settings, start_proxy,
                                                        tmp_path: Path):
    claude_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "hello.txt").write_text("the council fixture says: quince 4401\n")
    settings = make_settings(
        upstreams=[sim("actor"), sim("adv-a"), sim("adv-b"), sim("judge")],
        pools={"actor": ["actor"], "council": ["adv-a", "adv-b"], "judge": ["judge"]},
        council={"deadline_s": 20, "ping_interval_s": 0.5,
                 "advisors": {"adv-b": {"perspective": "adversarial reviewer"}}})
    runtime = await start_proxy(settings)

    run = await run_claude(runtime.address, workdir, tmp_path / "home",
                           "read hello.txt and tell me what it says", "--allowedTools", "Read",
                           env_extra={"ANTHROPIC_CUSTOM_HEADERS": "x-fusion-tier: plan"})

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.result["is_error"] is False, run.result
    assert run.result["num_turns"] == 2
    assert "quince 4401" in run.result["result"]

    path = settings.sessions.path / f"{run.result['session_id']}.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    kinds = [e["kind"] for e in events]
    assert kinds.count("request_received") == 2
    assert kinds.count("council_convened") == 2
    opinions = [e for e in events if e["kind"] == "advisor_finished"]
    assert len(opinions) == 4 and all(o["state"] == "ok" and o["text"] for o in opinions)
    assert any("adversarial reviewer" in o["text"] for o in opinions)
    briefings = [e for e in events if e["kind"] == "briefing_ready"]
    assert len(briefings) == 2
    assert all("## Recommended next action" in b["text"] for b in briefings)
    assert [e["briefed"] for e in events if e["kind"] == "actor_started"] == [True, True]
    tool_calls = [e for e in events if e["kind"] == "actor_tool_called"]
    assert tool_calls[0]["name"] == "Read"
    assert tool_calls[0]["input"]["file_path"] == str(workdir / "hello.txt")
    routes = [e["route"] for e in events if e["kind"] == "response_finished"]
    assert all("council=adv-a+adv-b" in r for r in routes)
