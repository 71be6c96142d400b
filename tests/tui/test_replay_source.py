"""The small replay source: a recording becomes events again."""

from __future__ import annotations

from pathlib import Path

from fusion_tui.events import EventBus, RequestReceived, ResponseFinished, RouteChosen
from fusion_tui.tui.replay import load_recording, publish_all
from tests.tui.conftest import FIXTURE


def test_fixture_decodes_to_two_requests() -> None:
    events = load_recording(FIXTURE)
    kinds = [type(e) for e in events]
    assert kinds == [RequestReceived, RouteChosen, ResponseFinished] * 2
    finished = [e for e in events if isinstance(e, ResponseFinished)]
    assert [f.stop_reason for f in finished] == ["end_turn", "tool_use"]
    assert finished[1].content is not None
    assert any(b["type"] == "tool_use" and b["name"] == "Read" for b in finished[1].content)


def test_torn_last_line_and_unknown_kinds_are_skipped(tmp_path: Path) -> None:
    lines = FIXTURE.read_text().splitlines()
    path = tmp_path / "torn.jsonl"
    path.write_text("\n".join([*lines[:3], '{"kind":"from_the_future","x":1}',
                               lines[3][:40]]) + "\n")
    events = load_recording(path)
    assert [type(e) for e in events] == [RequestReceived, RouteChosen]


def test_publish_all_feeds_a_fresh_bus() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    assert publish_all(bus, load_recording(FIXTURE)) == 6
    assert len(sub.drain()) == 6
