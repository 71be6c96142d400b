"""The real opencode (pinned) completes a tool round trip through the proxy's
POST /v1/chat/completions (an OpenAI-compatible provider) to the simulated actor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.agents import opencode_bin, run_opencode

pytestmark = pytest.mark.e2e


async def test_opencode_reads_a_file_through_a_simulated_actor(make_settings, start_proxy,
                                                               tmp_path: Path):
    opencode_bin()
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "hello.txt").write_text("the fixture says: kumquat 7319\n")
    settings = make_settings(sessions={"dir": str(tmp_path / "sessions"), "record": "full"})
    runtime = await start_proxy(settings)
    run = await run_opencode(runtime.address, workdir, tmp_path / "home",
                             "read hello.txt and tell me what it says")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "kumquat 7319" in run.stdout, run.stdout[-2000:]
    events = [json.loads(line) for path in (tmp_path / "sessions").glob("*.jsonl")
              for line in path.read_text().splitlines()[1:]]
    finished = [e for e in events if e["kind"] == "response_finished" and e["content"]]
    tools = [b for f in finished for b in f["content"] if b.get("type") == "tool_use"]
    assert tools and tools[0]["name"] == "read"
    assert tools[0]["input"]["filePath"].endswith("hello.txt")
    assert finished[-1]["stop_reason"] in ("stop", "end_turn")
