"""The recorder under hostile input: odd session ids and values never cost another event,
never leak a file descriptor, never leave an empty file; request bodies are stored as deltas
and read back whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fusion_tui.events import RequestReceived, ResponseFinished
from fusion_tui.sessions import SessionRecorder
from fusion_tui.sessions.export import export_markdown
from fusion_tui.sessions.recorder import encode_event_line, session_file_name
from fusion_tui.sessions.replay import read_recording
from fusion_tui.sessions.store import find_recording, list_sessions

NOT_UTF8 = b"caf\xe9-\xff\xfe".decode("utf-8", "surrogateescape")


def received(session: str, body: dict[str, object] | None = None,
             request_id: str = "r1") -> RequestReceived:
    return RequestReceived(session_id=session, request_id=request_id, protocol="anthropic",
                           path="/v1/messages", model="m", stream=False, client="t", tools=0,
                           messages=1, body_bytes=10, body=body)


def finished(session: str) -> ResponseFinished:
    return ResponseFinished(session_id=session, status=200, upstream_id="u", route="r",
                            latency_ms=1.0)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("bad_id", [NOT_UTF8, "a\ud800b", "tab\there\x00nul", "x" * 5000,
                                    "", "..", "/", "ü" * 300])
def test_an_odd_session_id_costs_no_other_session_anything(tmp_path: Path, bad_id: str) -> None:
    recorder = SessionRecorder(tmp_path)
    fds = open_fds()
    recorder._pending = [received("good", {"messages": [1]}), received(bad_id or "\x7f"),
                         finished("good"), finished(bad_id or "\x7f")]
    recorder.flush()
    recorder.close()
    assert open_fds() == fds  # every opened file closed again
    good = read_recording(tmp_path / "good.jsonl")
    assert [e.kind for e in good.events] == ["request_received", "response_finished"]
    for path in tmp_path.iterdir():
        assert path.stat().st_size > 0, path  # no empty recording left behind
        assert path.parent == tmp_path and len(path.name) < 100
        assert len(read_recording(path).events) == 2
    assert recorder.errors == 0


def test_a_value_orjson_refuses_is_still_recorded(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    body = {"messages": [{"role": "user", "content": "lone \udcff surrogate"}],
            "max_tokens": 10**30}
    recorder(received("s", body))
    recorder.close()
    [event] = read_recording(tmp_path / "s.jsonl").events
    assert isinstance(event, RequestReceived) and event.body == body


def test_two_long_ids_with_the_same_start_never_share_a_file() -> None:
    a, b = "p" * 200 + "a", "p" * 200 + "b"
    assert session_file_name(a) != session_file_name(b)
    assert session_file_name("a/b") != session_file_name("a_b") != session_file_name("a?b")
    assert session_file_name("plain-id_1.2") == "plain-id_1.2.jsonl"
    assert session_file_name(NOT_UTF8) != session_file_name(NOT_UTF8.replace("\udcff", "_"))


def test_a_failing_file_leaves_no_empty_recording_and_no_open_file(tmp_path: Path,
                                                                   monkeypatch) -> None:
    recorder = SessionRecorder(tmp_path)
    real_write = os.write

    def failing_write(fd: int, data: bytes) -> int:
        if b'"bad"' in bytes(data):
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", failing_write)
    fds = open_fds()
    recorder._pending = [received("bad"), received("good")]
    recorder.flush()
    assert not (tmp_path / "bad.jsonl").exists()
    assert open_fds() == fds + 1  # only good's file is held open
    recorder.close()
    assert recorder.errors == 1 and "No space" in (recorder.last_error or "")
    assert len(read_recording(tmp_path / "good.jsonl").events) == 1


def test_found_by_id_or_prefix_whatever_its_spelling(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    recorder(received("sess/one two"))
    recorder.close()
    assert find_recording(tmp_path, "sess/one two").name == session_file_name("sess/one two")
    assert find_recording(tmp_path, "sess/one").name == session_file_name("sess/one two")


def conversation(turns: int) -> list[dict[str, object]]:
    tools = [{"name": f"tool{i}", "description": "d" * 400, "input_schema": {}}
             for i in range(10)]
    bodies, messages = [], []
    for turn in range(turns):
        messages = [*messages, {"role": "user", "content": f"question {turn} " + "q" * 300}]
        bodies.append({"model": "m", "system": "s" * 2000, "tools": tools,
                       "messages": list(messages), "max_tokens": 100 + turn % 3})
        messages = [*messages, {"role": "assistant", "content": f"answer {turn}"}]
    return bodies


def test_bodies_are_stored_as_deltas_and_read_back_whole(tmp_path: Path) -> None:
    bodies = conversation(30)
    bodies[20] = {**bodies[20], "messages": [{"role": "user", "content": "compacted"}]}
    bodies[21] = {"input": "a different shape altogether"}
    recorder = SessionRecorder(tmp_path)
    for n, body in enumerate(bodies):
        recorder(received("s", body, request_id=f"r{n}"))
        recorder(finished("s"))
    recorder.close()
    path = tmp_path / "s.jsonl"
    whole = sum(len(encode_event_line(received("s", b))) for b in bodies)
    assert path.stat().st_size < whole / 5
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["schema"] == 2
    assert "delta" not in lines[1] and lines[3]["delta"]["base"] == 1
    assert lines[5]["delta"]["base"] == 3 and lines[5]["body"].keys() == {"messages", "max_tokens"}
    recording = read_recording(path)
    assert not recording.skipped
    got = [e.body for e in recording.events if isinstance(e, RequestReceived)]
    assert got == bodies
    assert [list(b) for b in got] == [list(b) for b in bodies]  # key order kept too
    assert list_sessions(tmp_path)[0].turns == 30
    assert "question 29" in export_markdown(recording)


def test_a_delta_whose_base_is_lost_is_skipped_not_misread(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    for n, body in enumerate(conversation(3)):
        recorder(received("s", body, request_id=f"r{n}"))
    recorder.close()
    path = tmp_path / "s.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "{torn", *lines[2:]]) + "\n")
    recording = read_recording(path)
    assert len(recording.events) == 0 and len(recording.skipped) == 3
    assert "was not read" in recording.skipped[1]


def test_schema_1_recordings_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    body = {"messages": [{"role": "user", "content": "hi"}]}
    path.write_text(json.dumps({"kind": "header", "schema": 1, "session_id": "old",
                                "created": 1.0}) + "\n"
                    + encode_event_line(received("old", body)).decode()
                    + encode_event_line(received("old", body)).decode())
    events = read_recording(path).events
    assert [e.body for e in events if isinstance(e, RequestReceived)] == [body, body]


def test_metadata_mode_writes_no_delta(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, record="metadata")
    for body in conversation(3):
        recorder(received("s", body))
    recorder.close()
    assert "delta" not in (tmp_path / "s.jsonl").read_text()
