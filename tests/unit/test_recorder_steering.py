"""Global steering in recordings: an act with no session goes into every session file open
when it is written, in order, and comes back on replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fusion_tui.events import RequestReceived, SteeringApplied
from fusion_tui.sessions import SessionRecorder
from fusion_tui.sessions.recorder import WRITE_BEHIND_S
from fusion_tui.sessions.replay import read_recording


def received(session: str) -> RequestReceived:
    return RequestReceived(session_id=session, request_id=f"r-{session}", protocol="anthropic",
                           path="/v1/messages", model="m", stream=False, client="t", tools=0,
                           messages=1, body_bytes=10)


def kinds_of(path: Path) -> list[tuple[str, str]]:
    return [(e.kind, getattr(e, "action", "")) for e in read_recording(path).events]


def test_global_steering_goes_into_every_open_session_file(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    recorder(received("a"))
    recorder(received("b"))
    recorder(SteeringApplied(action="hold", target="global", value="always"))
    recorder(SteeringApplied(session_id="a", action="pin", target="a", value="x"))
    recorder(received("c"))  # started after the act: not told in its file
    recorder.close()
    assert kinds_of(tmp_path / "a.jsonl") == [
        ("request_received", ""), ("steering_applied", "hold"), ("steering_applied", "pin")]
    assert kinds_of(tmp_path / "b.jsonl") == [
        ("request_received", ""), ("steering_applied", "hold")]
    assert kinds_of(tmp_path / "c.jsonl") == [("request_received", "")]
    replayed = read_recording(tmp_path / "b.jsonl").events[-1]
    assert isinstance(replayed, SteeringApplied)
    assert (replayed.session_id, replayed.value) == ("", "always")


def test_global_steering_with_no_session_open_writes_nothing(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    recorder(SteeringApplied(action="council", target="global", value="off"))
    recorder.close()
    assert list(tmp_path.iterdir()) == []


async def test_written_behind_global_steering_keeps_its_place_in_a_batch(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path)
    recorder(received("a"))
    await asyncio.sleep(WRITE_BEHIND_S * 3)  # a's file is open now
    recorder(received("b"))
    recorder(SteeringApplied(action="mute_advisor", target="adv1", value="global"))
    recorder(received("d"))
    await asyncio.sleep(WRITE_BEHIND_S * 3)
    recorder.close()
    assert kinds_of(tmp_path / "a.jsonl")[-1] == ("steering_applied", "mute_advisor")
    assert kinds_of(tmp_path / "b.jsonl") == [
        ("request_received", ""), ("steering_applied", "mute_advisor")]
    assert kinds_of(tmp_path / "d.jsonl") == [("request_received", "")]
