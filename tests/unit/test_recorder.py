"""The recorder: one file per session, header first, flushed per event, private files."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

from fusion_tui.events import (
    EventBus,
    GateDecided,
    RequestReceived,
    ResponseFinished,
    SteeringApplied,
)
from fusion_tui.events.codec import decode_event, encode_line
from fusion_tui.sessions import SessionRecorder
from fusion_tui.sessions.recorder import WRITE_BEHIND_S, encode_event_line
from fusion_tui.sessions.replay import read_recording


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
    [name] = [p.name for p in (tmp_path / "s").iterdir()]
    assert name.startswith(".._.._etc_passwd~") and name.endswith(".jsonl")


def test_fast_encoding_writes_what_the_reference_codec_writes() -> None:
    events = [received("s", {"messages": [{"role": "user", "content": "héllo ✓ \u2028"}]}),
              GateDecided(session_id="s", request_id="r", tier="plan",
                          scores={"compact": 0.1, "plan": 0.9}, reason="why", segments=["a"]),
              ResponseFinished(session_id="s", status=200, upstream_id=None, route="r",
                               latency_ms=1.5, content=None)]
    for event in events:
        line = encode_event_line(event)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert line.startswith(b'{"kind":"' + event.kind.encode() + b'",')
        assert json.loads(line) == json.loads(encode_line(event))


def test_a_batch_is_written_per_file_in_order(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    recorder._pending = [received("a"), received("b"), received("a", {"n": 2})]
    recorder.flush()
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert [json.loads(x).get("body") for x in lines[1:]] == [{"messages": ["secret"]},
                                                               {"n": 2}]
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == 2
    recorder.close()


async def test_inside_a_loop_events_are_written_behind_in_one_batch(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    recorder(received("a"))
    recorder(received("a", {"n": 2}))
    assert not (tmp_path / "a.jsonl").exists()  # nothing on the request's own path
    await asyncio.sleep(WRITE_BEHIND_S * 3)
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 3
    recorder(received("a", {"n": 3}))
    recorder.close()  # close writes what is still waiting
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 4


def test_an_event_that_cannot_be_encoded_costs_only_its_own_line(tmp_path: Path,
                                                                 caplog) -> None:
    deep: object = "x"
    for _ in range(5000):  # past orjson's 254 levels and the stdlib fallback's recursion
        deep = [deep]
    recorder = SessionRecorder(tmp_path)
    bad = received("a", {"deep": deep})
    recorder._pending = [received("a"), received("b"), bad, received("a", {"n": 2})]
    recorder.flush()
    recorder.close()
    lines = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [x["kind"] for x in lines] == ["header", "request_received", "encode_failed",
                                          "request_received"]
    note = lines[2]
    assert note["event_kind"] == "request_received" and note["seq"] == bad.seq
    assert note["request_id"] == "r1" and "recursion" in note["error"].lower()
    assert lines[3]["body"] == {"n": 2}
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == 2
    assert recorder.errors == 1 and "request_received" in (recorder.last_error or "")
    assert "cannot encode request_received" in caplog.text
    recording = read_recording(tmp_path / "a.jsonl")
    assert len(recording.events) == 2 and "encode_failed" in recording.skipped[0]
