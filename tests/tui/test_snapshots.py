"""Snapshots of the dashboard, driven by the recorded fixture session.

Plain `def` tests (pytest-textual-snapshot runs the app itself). Times on screen come from the
events' own timestamps in UTC, ids are fixed in the fixture, the header has no clock: nothing
depends on the wall clock. Regenerate with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from fusion_tui.events import Event, EventBus
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.replay import publish_all
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import RequestFeed
from tests.tui.conftest import SIZE, wait_until
from tests.tui.events_factory import cancelled, finished, received, routed

SnapCompare = Callable[..., bool]


def replay(app: FusionApp, bus: EventBus, events: list[Event],
           rows: int) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A `run_before` that publishes `events` and waits until the feed shows `rows` rows
    with every request finished."""

    async def run_before(pilot: Pilot[Any]) -> None:
        publish_all(bus, events)
        feed = app.query_one(RequestFeed)
        await wait_until(pilot, lambda: feed.row_count == rows and all(
            r.finished for r in feed.rows_model.values()))

    return run_before


def test_replayed_session(snap_compare: SnapCompare, replay_info: StatusInfo,
                          fixture_events: list[Event]) -> None:
    bus = EventBus()
    app = FusionApp(bus, info=replay_info)
    assert snap_compare(app, terminal_size=SIZE,
                        run_before=replay(app, bus, fixture_events, rows=2))


def test_failures_and_cancellations(snap_compare: SnapCompare, replay_info: StatusInfo,
                                    fixture_events: list[Event]) -> None:
    other = "h-3f9c2a7be01d4c55"
    extra = [
        received(1, session=other), routed(1, upstream="opus", session=other),
        finished(1, status=502, upstream="opus", session=other, tokens=(0, 0),
                 error="upstream opus failed: no API key"),
        received(2, stream=True), routed(2), cancelled(2), finished(2, status=499, tokens=(0, 0)),
    ]
    bus = EventBus()
    app = FusionApp(bus, info=replay_info)
    assert snap_compare(app, terminal_size=SIZE,
                        run_before=replay(app, bus, fixture_events + extra, rows=4))
