"""Snapshots of the meeting room at four terminal sizes (narrow to wide), driven by
deterministic event sequences (tests/tui/council_factory.py: fixed ids, times and text)
and by the recorded council fixture for the replay screen.

Plain `def` tests (pytest-textual-snapshot runs the app itself). Nothing depends on the wall
clock: event times are fixed and shown in UTC, the header has no clock, the hold countdown
reads an injected clock. Regenerate with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from fusion_tui.events import EventBus
from fusion_tui.sessions.replay import read_recording
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.widgets import RequestFeed
from fusion_tui.tui.widgets.council_room import CouncilRoom
from tests.tui.conftest import FIXTURE, publish_all, wait_until
from tests.tui.council_factory import INFO, make_controls, scenario

SnapCompare = Callable[..., bool]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((100, 40), id="100x40"),
         pytest.param((160, 50), id="160x50"), pytest.param((220, 60), id="220x60")]
"""A small terminal, a half-screen split, a laptop, a wide monitor."""
COUNCIL_FIXTURE = FIXTURE.parent / "council-demo.jsonl"

EXPECT = {"idle": 0, "council": 2, "held": 2, "breaker": 2}
"""Feed rows each scenario ends with."""


def live(name: str) -> tuple[FusionApp, Callable[[Pilot[Any]], Awaitable[None]]]:
    bus = EventBus()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus), clock=lambda: 0.0)
    events = scenario(name)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: bool(app.screen.query(RequestFeed)))
        publish_all(bus, events)
        feed = app.screen.query_one(RequestFeed)
        await wait_until(pilot, lambda: app.bridge.events == len(events)
                         and feed.row_count == EXPECT[name] and feed.settled)
        room = app.screen.query_one(CouncilRoom)
        await wait_until(pilot, lambda: name in ("idle",) or room.shown is not None)
        await wait_until(pilot, lambda: app.screen.settled)
        await pilot.pause(0.2)

    return app, run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["idle", "council", "held", "breaker"])
def test_live(snap_compare: SnapCompare, name: str, size: tuple[int, int]) -> None:
    app, run_before = live(name)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_replay(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    recording = read_recording(COUNCIL_FIXTURE)
    app = FusionApp(EventBus(), info=INFO, replay=recording, speed=0, clock=lambda: 0.0)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: screen.source.finished
                         and screen.bridge.events == len(recording.events)
                         and screen.query_one(RequestFeed).row_count == 4
                         and screen.settled)
        screen.update_banner()
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
