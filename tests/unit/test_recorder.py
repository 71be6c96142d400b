"""The recorder: one file per session, header first, flushed per event, private files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from fusion_tui.events import EventBus, RequestReceived, ResponseFinished, SteeringApplied
from fusion_tui.events.codec import decode_event
from fusion_tui.sessions import SessionRecorder


def received(session: str, body: dict[str, object] | None = None) -> RequestReceived:
    return RequestReceived(session_id=session, request_id="r1", protocol="anthropic",
                           path="/v1/messages", model="m", stream=False, client="t", tools=0,
                           messages=1, body_bytes=10, body=body or {"messages": ["secret"]})


def test_events_are_written_and_flushed_per_session(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    recorder = SessionRecorder(folder)
    bus = EventBus()
    bus.listen(recorder)
    bus.publish(received("a"))
    bus.publish(received("b"))
    bus.publish(SteeringApplied(action="no session"))
    # Flushed already: readable before close.
    lines = (folder / "a.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "header"
    event = decode_event(json.loads(lines[1]))
    assert isinstance(event, RequestReceived) and event.body == {"messages": ["secret"]}
    assert (folder / "b.jsonl").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["a.jsonl", "b.jsonl"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "a.jsonl").stat().st_mode) == 0o600
    recorder.close()


def test_metadata_mode_drops_bodies(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, record="metadata")
    recorder(received("s"))
    recorder(ResponseFinished(session_id="s", status=200, upstream_id="u", route="r",
                              latency_ms=1.0, content=[{"type": "text", "text": "secret"}]))
    recorder.close()
    text = (tmp_path / "s.jsonl").read_text()
    assert "secret" not in text
    assert text.count("\n") == 3


def test_reopens_for_append_beyond_max_open(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, max_open=2)
    for session in ["a", "b", "c", "a"]:
        recorder(received(session))
    recorder.close()
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert [json.loads(x)["kind"] for x in lines] == ["header", "request_received",
                                                       "request_received"]


def test_unsafe_session_ids_cannot_escape_the_folder(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path / "s")
    recorder(received("../../etc/passwd"))
    recorder.close()
    assert [p.name for p in (tmp_path / "s").iterdir()] == [".._.._etc_passwd.jsonl"]
