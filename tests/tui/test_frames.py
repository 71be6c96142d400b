"""Every change that reaches the live screen leads to a frame: a frame asked for while the
frame lock is held (a frame being drawn, the screen's widgets being rebuilt) is drawn as soon
as the lock is released, not left to a timer. The frame timer is pushed out of the way here,
so only frames asked for are drawn."""

from __future__ import annotations

import pytest

from fusion_tui.events import AdvisorDelta, EventBus
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens import dashboard
from fusion_tui.tui.widgets.council_room import CouncilRoom
from tests.tui.conftest import publish_all, wait_until
from tests.tui.council_factory import INFO, SESSION, Clock, council_turn, make_controls


async def test_a_frame_asked_for_during_a_rebuild_is_drawn_after_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "FRAME_S", 3600.0)  # the timer never ticks in this test
    bus = EventBus()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus), clock=lambda: 0.0)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, dashboard.DashboardScreen)
        room = screen.query_one(CouncilRoom)
        clock = Clock()
        events = council_turn(clock, 1, finish_advisors=False)
        publish_all(bus, events)
        # the first session is selected, and the selection drawn, without the timer
        await wait_until(pilot, lambda: room.shown == "req_0001" and screen._frames >= 1)
        frames = screen._frames
        async with screen.drawing():  # what going back in a replay does while it rebuilds
            more = AdvisorDelta(session_id=SESSION, request_id="req_0001",
                                advisor="sim-skeptic", text="one more thought",
                                **clock.at())  # type: ignore[arg-type]
            bus.publish(more)
            await wait_until(pilot, lambda: screen._changes is not None)
            await screen.draw_frame()  # skipped: the lock is held
            assert screen._frames == frames and not screen.settled
        await wait_until(pilot, lambda: screen._changes is None and screen._frames > frames)
        assert "one more thought" in room.panes()["sim-skeptic"]._text.view.source  # type: ignore[union-attr]
