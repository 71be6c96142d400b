"""Session summaries and transcripts: a duration that ignores global steering written into
the file later, the CLI list's duration column, a tool call listed once in an export."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from fusion_tui.cli import main
from fusion_tui.events import ResponseFinished, SteeringApplied
from fusion_tui.events.codec import encode_line
from fusion_tui.sessions.export import export_markdown
from fusion_tui.sessions.replay import read_recording
from fusion_tui.sessions.store import summarize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sessions"
COUNCIL = FIXTURES / "council-demo.jsonl"


def test_a_later_global_steering_line_does_not_stretch_the_duration(tmp_path: Path) -> None:
    path = tmp_path / "cc-7f3a9e21.jsonl"
    shutil.copy(COUNCIL, path)
    before = summarize(read_recording(path))
    last = read_recording(path).events[-1]
    # the recorder writes a global act (no session) into every open session file: here an
    # hour after this session's last request
    act = SteeringApplied(action="hold", target="global", value="plan", session_id="",
                          seq=last.seq + 1, t=last.t + 3600, ts=last.ts + 3600)
    with path.open("a") as f:
        f.write(encode_line(act) + "\n")
    after = summarize(read_recording(path))
    assert after.duration_s == before.duration_s < 60


def test_the_sessions_command_lists_durations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    shutil.copy(COUNCIL, folder / "cc-7f3a9e21.jsonl")
    config = tmp_path / "config.yaml"
    config.write_text(f"sessions: {{dir: {folder}}}\n"
                      "upstreams: [{id: sim, type: simulated, model: sim}]\n"
                      "pools: {actor: [sim]}\n")
    monkeypatch.delenv("FUSION_CONFIG", raising=False)
    assert main(["sessions", "--config", str(config)]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert "duration" in header
    duration = summarize(read_recording(folder / "cc-7f3a9e21.jsonl")).duration_s
    assert f"{duration:,.0f}s" in row.split()


def test_export_lists_each_tool_call_once(tmp_path: Path) -> None:
    recording = read_recording(COUNCIL)
    calls = {e.request_id: [] for e in recording.events}  # type: ignore[var-annotated]
    for event in recording.events:
        if event.kind == "actor_tool_called":
            calls[event.request_id].append(event)
    events = []
    for event in recording.events:
        if isinstance(event, ResponseFinished) and calls.get(event.request_id):
            # the actor's answer carries the calls it reported one by one
            content = [{"type": "tool_use", "id": c.tool_use_id, "name": c.name,  # type: ignore[attr-defined]
                        "input": c.input} for c in calls[event.request_id]]  # type: ignore[attr-defined]
            event = dataclasses.replace(event, content=content)
        events.append(event)
    recording.events = events
    text = export_markdown(recording)
    reads = [line for line in text.splitlines() if "`Read`" in line]
    bashes = [line for line in text.splitlines() if "`Bash`" in line]
    turns = sum(1 for c in calls.values() if c)
    assert turns == 2
    assert len(reads) == turns and len(bashes) == turns
