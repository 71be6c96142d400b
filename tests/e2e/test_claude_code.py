"""The real Claude Code CLI completes a tool round trip through fusion-tui."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.claude_code import claude_bin, run_claude

pytestmark = pytest.mark.e2e


async def test_claude_code_reads_a_file_through_the_proxy(make_settings, start_proxy,
                                                          tmp_path: Path):
    claude_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "hello.txt").write_text("the fixture says: kumquat 7319\n")
    settings = make_settings(upstreams=[{"id": "sim-actor", "type": "simulated",
                                         "model": "sim-actor", "first_token_ms": 5,
                                         "tokens_per_s": 2000}])
    runtime = await start_proxy(settings)

    run = await run_claude(runtime.address, workdir, tmp_path / "home",
                           "read hello.txt and tell me what it says", "--allowedTools", "Read")

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.result["is_error"] is False, run.result
    assert run.result["num_turns"] == 2
    assert "kumquat 7319" in run.result["result"]
    assert run.result["permission_denials"] == []

    session_id = run.result["session_id"]
    path = settings.sessions.path / f"{session_id}.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()]
    requests = [e for e in events if e["kind"] == "request_received"]
    finished = [e for e in events if e["kind"] == "response_finished"]
    assert len(requests) == 2 and len(finished) == 2
    assert [f["stop_reason"] for f in finished] == ["tool_use", "end_turn"]
    tool_use = finished[0]["content"][-1]
    assert tool_use["name"] == "Read"
    assert tool_use["input"]["file_path"] == str(workdir / "hello.txt")
    last_message = requests[1]["body"]["messages"][-1]
    results = [b for b in last_message["content"] if b.get("type") == "tool_result"]
    assert results[0]["tool_use_id"] == tool_use["id"]
    assert "kumquat 7319" in json.dumps(results[0]["content"])
    assert all(r["client"].startswith("claude-cli/") for r in requests)
