"""The real Claude Code CLI completes a tool round trip through an OpenAI-protocol upstream:
Claude Code -> proxy (Anthropic) -> fake OpenAI server (Chat Completions) and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.claude_code import claude_bin, run_claude
from tests.support.fake_openai import FakeOpenAI, Turn, running

pytestmark = pytest.mark.e2e


async def test_claude_code_reads_a_file_through_an_openai_upstream(make_settings, start_proxy,
                                                                   tmp_path: Path):
    claude_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    target = workdir / "hello.txt"
    target.write_text("the fixture says: kumquat 7319\n")

    def answer(body: dict[str, Any]) -> Turn:
        results = [m for m in body["messages"] if m["role"] == "tool"]
        if results:
            return Turn(text=f"The file says: {results[-1]['content']}")
        return Turn(text="I'll read it.",
                    tool_calls=[{"name": "Read", "arguments": {"file_path": str(target)}}])

    fake = FakeOpenAI(script=[answer] * 8)
    async with running(fake) as base:
        settings = make_settings(upstreams=[{
            "id": "oai-actor", "type": "openai-compatible", "base_url": base,
            "model": "gpt-fake", "timeout_s": 30}])
        runtime = await start_proxy(settings)
        run = await run_claude(runtime.address, workdir, tmp_path / "home",
                               "read hello.txt and tell me what it says",
                               "--allowedTools", "Read")

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.result["is_error"] is False, run.result
    assert run.result["num_turns"] == 2
    assert "kumquat 7319" in run.result["result"]
    assert run.result["permission_denials"] == []

    chats = [r.body for r in fake.requests]
    assert len(chats) == 2
    assert all(c["model"] == "gpt-fake" and c["stream"] is True for c in chats)
    first, second = chats
    assert first["messages"][0]["role"] == "system"
    assert any(t["function"]["name"] == "Read" for t in first["tools"])
    calls = [m for m in second["messages"] if m.get("tool_calls")]
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert calls[-1]["tool_calls"][0]["id"] == tool_messages[-1]["tool_call_id"]
    assert "kumquat 7319" in tool_messages[-1]["content"]

    session_id = run.result["session_id"]
    events = [json.loads(line) for line in
              (settings.sessions.path / f"{session_id}.jsonl").read_text().splitlines()]
    finished = [e for e in events if e["kind"] == "response_finished"]
    assert [f["stop_reason"] for f in finished] == ["tool_use", "end_turn"]
    assert finished[0]["content"][-1]["name"] == "Read"
