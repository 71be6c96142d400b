"""Recordings become events again through fusion_tui.sessions.replay (the stopgap loader is
gone)."""

from __future__ import annotations

from pathlib import Path

from fusion_tui.events import EventBus, RequestReceived, ResponseFinished, RouteChosen
from fusion_tui.sessions.replay import ReplaySource, read_recording
from tests.tui.conftest import FIXTURE

COUNCIL = FIXTURE.parent / "council-demo.jsonl"


def test_fixture_decodes_to_two_requests() -> None:
    events = read_recording(FIXTURE).events
    kinds = [type(e) for e in events]
    assert kinds == [RequestReceived, RouteChosen, ResponseFinished] * 2
    finished = [e for e in events if isinstance(e, ResponseFinished)]
    assert [f.stop_reason for f in finished] == ["end_turn", "tool_use"]
    assert finished[1].content is not None
    assert any(b["type"] == "tool_use" and b["name"] == "Read" for b in finished[1].content)


def test_torn_last_line_and_unknown_kinds_are_skipped(tmp_path: Path) -> None:
    lines = FIXTURE.read_text().splitlines()
    path = tmp_path / "torn.jsonl"
    path.write_text("\n".join([*lines[:3], '{"kind":"from_the_future","x":1}', lines[3][:40]]))
    recording = read_recording(path)
    assert [type(e) for e in recording.events] == [RequestReceived, RouteChosen]
    assert len(recording.skipped) == 2


async def test_council_fixture_plays_into_a_fresh_bus() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    recording = read_recording(COUNCIL)
    source = ReplaySource(recording, bus, speed=0)
    await source.run()
    assert len(sub.drain()) == len(recording.events)
    assert len(source.request_starts()) == 4
