"""Reading recordings back: listing, torn lines, migrations, export, retention."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from fusion_tui.events import EventBus
from fusion_tui.sessions.export import export_markdown
from fusion_tui.sessions.replay import RecordingError, ReplaySource, read_recording
from fusion_tui.sessions.store import find_recording, list_sessions, prune

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "captures" / \
    "claude-code-2.1.330-read-tool.jsonl"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(CAPTURE, tmp_path / "c075d63c-4bfa-48f4-9632-7a0dea6dcd7b.jsonl")
    return tmp_path


def test_capture_reads_and_summarises(folder: Path) -> None:
    [summary] = list_sessions(folder)
    assert summary.session_id == "c075d63c-4bfa-48f4-9632-7a0dea6dcd7b"
    assert summary.turns == 2 and summary.client.startswith("claude-cli/")
    assert summary.errors == 0 and summary.duration_s > 0
    assert find_recording(folder, "c075d63c").name.startswith("c075d63c")
    with pytest.raises(RecordingError, match="no recorded session"):
        find_recording(folder, "zzz")


def test_torn_last_line_is_skipped_not_fatal(folder: Path) -> None:
    path = next(folder.iterdir())
    complete = read_recording(path)
    with path.open("a") as f:
        f.write('{"kind":"response_finished","session_id":"x","sta')
    torn = read_recording(path)
    assert len(torn.events) == len(complete.events)
    assert torn.skipped == [f"line {len(complete.events) + 2}: torn last line "
                            "(the writer stopped mid-event)"]


def test_old_schema_migrates_and_newer_schema_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"kind": "header", "schema": 0, "session_id": "old"}) + "\n" +
                   json.dumps({"type": "steering_applied", "session_id": "old", "seq": 1,
                               "t": 1.0, "action": "pin"}) + "\n")
    recording = read_recording(old)
    assert recording.events[0].kind == "steering_applied" and recording.events[0].ts == 0.0
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"kind": "header", "schema": 99}) + "\n")
    with pytest.raises(RecordingError, match="newer"):
        read_recording(new)
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    with pytest.raises(RecordingError, match="header"):
        read_recording(junk)


def test_export_markdown_is_readable_and_complete(folder: Path) -> None:
    text = export_markdown(read_recording(next(folder.iterdir())))
    assert text.startswith("# Session c075d63c")
    assert text.count("## Request ") == 2
    assert "read hello.txt and tell me what it says" in text
    assert "Tool call `Read`" in text
    assert "hello from the fixture file" in text
    assert "## Total" in text


async def test_replay_source_publishes_in_order_with_transport(folder: Path) -> None:
    recording = read_recording(next(folder.iterdir()))
    bus = EventBus()
    sub = bus.subscribe()
    source = ReplaySource(recording, bus, speed=0)
    source.pause()
    source.step()
    import asyncio
    task = asyncio.create_task(source.run())
    for _ in range(100):
        if source.position == 1:
            break
        await asyncio.sleep(0.01)
    assert source.position == 1 and source.paused
    source.jump_to_request(2)
    assert source.current_request() == 1
    source.resume()
    await asyncio.wait_for(task, 5)
    seen = sub.drain()
    assert [e.seq for e in seen] == [e.seq for e in recording.events]
    assert source.finished


def test_prune_by_age_then_size(tmp_path: Path) -> None:
    now = 1_000_000_000.0
    for name, age_days, size in [("old", 40, 10), ("mid", 5, 600_000), ("new", 1, 600_000)]:
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(b"x" * size)
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    removed = prune(tmp_path, keep_days=30, max_mb=1, now=now)
    assert removed == [("old.jsonl", "older than 30 days"), ("mid.jsonl", "folder over 1 MB")]
    assert [p.name for p in tmp_path.iterdir()] == ["new.jsonl"]
