"""A recording replays to the same screens as the live view showed: the same feed rows,
advisor panes, briefing and actor pane. Checked with a real Claude Code recording and with
the council fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from fusion_tui.events import EventBus
from fusion_tui.sessions.replay import read_recording
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.widgets import RequestFeed
from fusion_tui.tui.widgets.actor_pane import ActorPane
from fusion_tui.tui.widgets.council_room import CouncilRoom
from fusion_tui.tui.widgets.markdown_stream import MarkdownStream
from tests.tui.conftest import FIXTURE, publish_all, wait_until
from tests.tui.council_factory import INFO

FIXTURES = FIXTURE.parent.parent
RECORDINGS = [
    pytest.param(FIXTURES / "captures" / "claude-code-2.1.330-read-tool.jsonl", id="claude-code"),
    pytest.param(FIXTURE.parent / "council-demo.jsonl", id="council"),
]


def shown(screen: Any) -> dict[str, Any]:
    """What the meeting-room widgets show, as plain data."""
    feed = screen.query_one(RequestFeed)
    table: DataTable[Any] = feed
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    room = screen.query_one(CouncilRoom)
    texts = [m.source for m in room.query(MarkdownStream)]
    labels = [str(s.render()) for s in room.query(Static) if not isinstance(s, MarkdownStream)]
    actor = str(screen.query_one(ActorPane).render())
    return {"feed": rows, "room": texts, "labels": labels, "actor": actor}


@pytest.mark.parametrize("path", RECORDINGS)
async def test_replay_shows_what_live_showed(path: Path) -> None:
    recording = read_recording(path)
    requests = sum(1 for e in recording.events if e.kind == "request_received")

    live_bus = EventBus()
    live = FusionApp(live_bus, info=INFO, clock=lambda: 0.0)
    async with live.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        publish_all(live_bus, recording.events)
        await wait_until(pilot, lambda: live.screen.query_one(RequestFeed).row_count
                         == requests and live.screen.query_one(RequestFeed).settled
                         and live.screen.query_one(CouncilRoom).settled)
        await pilot.pause(0.3)
        live_view = shown(live.screen)

    replay = FusionApp(EventBus(), info=INFO, replay=recording, speed=0, clock=lambda: 0.0)
    async with replay.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(replay.screen, ReplayScreen))
        screen = replay.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.source.finished
                         and screen.query_one(RequestFeed).row_count == requests
                         and screen.query_one(RequestFeed).settled
                         and screen.query_one(CouncilRoom).settled)
        await pilot.pause(0.3)
        replay_view = shown(screen)

    assert live_view["feed"] and len(live_view["feed"]) == requests
    assert replay_view == live_view
