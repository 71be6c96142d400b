"""The real Codex CLI (pinned) completes a tool round trip through the proxy's
POST /v1/responses: to the simulated actor (translated to Anthropic wire, the simulated model
runs `cat` with Codex's shell tool), and to a Responses upstream (pass-through)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agents import codex_bin, run_codex
from tests.support.fake_responses import FakeResponses, Turn, running

pytestmark = pytest.mark.e2e
PROMPT = "read hello.txt and tell me what it says"


def project(tmp_path: Path) -> Path:
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "hello.txt").write_text("the fixture says: kumquat 7319\n")
    return workdir


def commands(run) -> list[dict[str, Any]]:
    return [e["item"] for e in run.json_lines() if e.get("type") == "item.completed"
            and e["item"].get("type") == "command_execution"]


def messages(run) -> list[str]:
    return [e["item"]["text"] for e in run.json_lines() if e.get("type") == "item.completed"
            and e["item"].get("type") == "agent_message"]


async def test_codex_reads_a_file_through_a_simulated_actor(make_settings, start_proxy,
                                                            tmp_path: Path):
    codex_bin()
    workdir = project(tmp_path)
    settings = make_settings(sessions={"dir": str(tmp_path / "sessions"), "record": "full"})
    runtime = await start_proxy(settings)
    run = await run_codex(runtime.address, workdir, tmp_path / "home", PROMPT)
    assert run.returncode == 0, run.stderr[-2000:]
    ran = commands(run)
    assert len(ran) == 1 and "cat hello.txt" in ran[0]["command"], run.stdout[-2000:]
    assert ran[0]["exit_code"] == 0 and "kumquat 7319" in ran[0]["aggregated_output"]
    assert "kumquat 7319" in messages(run)[-1]
    events = [json.loads(line) for path in (tmp_path / "sessions").glob("*.jsonl")
              for line in path.read_text().splitlines()[1:]]
    received = [e for e in events if e["kind"] == "request_received"]
    assert {e["protocol"] for e in received} == {"responses"}
    finished = [e for e in events if e["kind"] == "response_finished"]
    assert [f["stop_reason"] for f in finished] == ["tool_use", "end_turn"]
    assert finished[0]["content"][-1]["name"] in ("exec_command", "shell", "shell_command")


async def test_codex_through_a_responses_upstream_passes_through(make_settings, start_proxy,
                                                                 tmp_path: Path):
    codex_bin()
    workdir = project(tmp_path)

    def answer(body: dict[str, Any]) -> Turn:
        outputs = [i for i in body["input"] if i.get("type") == "function_call_output"]
        if outputs:
            output = outputs[-1]["output"]
            text = output if isinstance(output, str) else json.dumps(output)
            return Turn(text=f"The file says: {text.strip()[-40:]}")
        shell = next(t for t in body["tools"] if t.get("name") in ("exec_command", "shell"))
        props = shell["parameters"]["properties"]
        args = {"cmd": "cat hello.txt"} if "cmd" in props else {
            "command": ["bash", "-lc", "cat hello.txt"]}
        return Turn(text="Reading it.", calls=[{"name": shell["name"], "arguments": args}])

    fake = FakeResponses(script=[answer] * 4)
    async with running(fake) as base:
        runtime = await start_proxy(make_settings(upstreams=[{
            "id": "gpt", "type": "openai-responses", "base_url": base + "/v1",
            "model": "gpt-up"}]))
        run = await run_codex(runtime.address, workdir, tmp_path / "home", PROMPT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "kumquat 7319" in messages(run)[-1]
    first, second = (r.body for r in fake.requests)
    assert first["model"] == "gpt-up" and first["store"] is False and first["stream"] is True
    assert any(i.get("type") == "function_call_output" for i in second["input"])
