"""The request feed and the status bar, fed through a bus with Pilot."""

from __future__ import annotations

import pytest
from rich.text import Text

from fusion_tui.events import BreakerChanged, EventBus
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.status import StatusInfo, UpstreamInfo
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from tests.tui.conftest import publish_all, wait_until
from tests.tui.events_factory import cancelled, finished, received, routed

SIZE = (200, 40)
"""Wide enough for every feed column (a narrower feed leaves the least telling ones out)."""

INFO = StatusInfo(listen="127.0.0.1:0", sessions_dir="/tmp/s", source="test",
                  upstreams=(UpstreamInfo("sim-actor", simulated=True),
                             UpstreamInfo("opus", key_missing=True),
                             UpstreamInfo("real")))


def cells(feed: RequestFeed, request_id: str) -> list[str]:
    """A row's cells as plain strings (stripped), in column order."""
    return [(c.plain if isinstance(c, Text) else str(c)).strip()
            for c in feed.get_row(request_id)]


def cell(feed: RequestFeed, request_id: str, key: str) -> str:
    """One cell by column key (of the columns shown)."""
    return cells(feed, request_id)[[k for k, _, _ in feed.layout_columns].index(key)]


def status_text(app: FusionApp) -> str:
    """The status bar as plain text."""
    return app.query_one(StatusBar).render().plain


async def test_row_created_on_received_and_updated_on_finish() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(RequestFeed)
        publish_all(bus, [received(1, session="a-very-long-session-id"), routed(1)])
        await wait_until(pilot, lambda: feed.row_count == 1 and feed.settled)
        assert cells(feed, "req_1") == ["22:13:21", "a-very-long-session-id", "…", "single",
                                        "sim-actor (sim)", "…", "…", "", "…"]
        assert "in flight 1" in status_text(app)

        bus.publish(finished(1, latency_ms=1234.4, tokens=(1500, 42)))
        await wait_until(pilot, lambda: cell(feed, "req_1", "status") == "200")
        assert cells(feed, "req_1")[5:] == ["200", "1,234", "", "1,500/42"]
        assert feed.row_count == 1
        assert "requests 1 · in flight 0 · 0 failed · 0 cancelled" in status_text(app)


async def test_errors_cancellations_and_real_upstreams() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(RequestFeed)
        publish_all(bus, [
            received(1), routed(1, upstream="real", tier="plan"),
            finished(1, status=502, upstream="real", error="upstream real failed"),
            received(2), routed(2), cancelled(2), finished(2, status=499),
        ])
        await wait_until(pilot, lambda: feed.row_count == 2
                         and cell(feed, "req_2", "status") == "cancelled")
        assert cells(feed, "req_1")[2:6] == ["plan", "single", "real", "502"]
        assert cells(feed, "req_2")[4:6] == ["sim-actor (sim)", "cancelled"]
        text = status_text(app)
        assert "requests 2 · in flight 0 · 1 failed · 1 cancelled" in text


async def test_rows_are_bounded_and_oldest_go_first() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO, max_rows=5)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(RequestFeed)
        for n in range(12):
            publish_all(bus, [received(n), routed(n), finished(n)])
        await wait_until(pilot, lambda: "req_11" in feed.rows and feed.settled)
        assert feed.row_count == 5
        assert [str(k.value) for k in feed.rows] == [f"req_{n}" for n in range(7, 12)]
        assert list(feed.rows_model) == [f"req_{n}" for n in range(7, 12)]
        # a late event for an evicted request does not resurrect a stale, half-filled row
        # in the middle: it shows as a fresh row at the end, and the bound still holds
        bus.publish(finished(3))
        await wait_until(pilot, lambda: "req_3" in feed.rows)
        assert feed.row_count == 5


async def test_status_bar_shows_upstreams_sessions_and_address() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "test" in status_text(app))
        text = status_text(app)
        assert "sim-actor (sim) · opus (key missing) · real" in text
        assert "sessions /tmp/s (full)" in text


async def test_dropped_events_are_shown() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    app.bridge.subscription.dropped = 7  # as if the bus had overflowed this subscription
    async with app.run_test(size=SIZE) as pilot:
        bus.publish(received(1))
        await wait_until(pilot, lambda: "7 events dropped" in status_text(app))


async def test_bridge_batches_a_flood() -> None:
    """Whatever arrives while the bridge waits for its next flush reaches the widgets in
    one batch: one a frame, never one per publish. (How many batches a second a steady
    stream makes is timing, measured by bench/ui_flood.py, not asserted here.)"""
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.query_one(RequestFeed)
        await pilot.pause()
        bursts, per_burst, n = 12, 30, 0
        for _ in range(bursts):
            for _ in range(per_burst):  # 90 publishes with no await between them
                publish_all(bus, [received(n), routed(n), finished(n)])
                n += 1
            expected = 3 * n
            await wait_until(pilot, lambda: app.bridge.events == expected)  # noqa: B023
        assert app.bridge.batches == bursts, (app.bridge.batches, n)
        assert app.bridge.largest == 3 * per_burst
        await wait_until(pilot, lambda: f"req_{n - 1}" in feed.rows)
        await wait_until(pilot, lambda: f"requests {n}" in status_text(app))


async def test_status_events_are_coalesced() -> None:
    from fusion_tui.tui.bridge import coalesce

    events = [BreakerChanged(upstream_id="a", state="open"), received(1),
              BreakerChanged(upstream_id="b", state="open"),
              BreakerChanged(upstream_id="a", state="closed")]
    kept = coalesce(events)
    assert [getattr(e, "state", "req") for e in kept] == ["req", "open", "closed"]
    assert [getattr(e, "upstream_id", "") for e in kept][1:] == ["b", "a"]


async def test_quit_binding_has_an_id_and_shows_in_the_footer() -> None:
    app = FusionApp(EventBus(), info=INFO)
    async with app.run_test(size=SIZE):
        bindings = [active.binding for active in app.active_bindings.values()]
        quit_binding = next(b for b in bindings if b.id == "quit" and b.key == "q")
        assert quit_binding.show and quit_binding.action == "quit"


def test_deltas_are_concatenated_per_request_and_advisor() -> None:
    from fusion_tui.events import AdvisorDelta, AdvisorFinished
    from fusion_tui.tui.bridge import coalesce

    def d(advisor: str, text: str) -> AdvisorDelta:
        return AdvisorDelta(session_id="s", request_id="r", advisor=advisor, text=text)

    done = AdvisorFinished(session_id="s", request_id="r", advisor="a", state="ok")
    out = coalesce([d("a", "he"), d("b", "x"), d("a", "llo"), done, d("a", "!")])
    assert [(type(e).__name__, getattr(e, "text", "")) for e in out] == [
        ("AdvisorDelta", "hello"), ("AdvisorDelta", "x"), ("AdvisorFinished", ""),
        ("AdvisorDelta", "!")]


@pytest.mark.parametrize(("size", "columns"), [
    ((80, 24), ["time", "session", "tier", "route", "served_by", "status"]),
    ((120, 36), ["time", "session", "tier", "route", "served_by", "status"]),
    ((220, 60), ["time", "session", "tier", "route", "served_by", "status", "latency",
                 "cost", "tokens"]),
])
async def test_feed_columns_fit_the_width_and_grow_to_their_content(
        size: tuple[int, int], columns: list[str]) -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=size) as pilot:
        feed = app.query_one(RequestFeed)
        if size[0] <= 100 and size[1] < 34:
            await pilot.press("w")  # narrow and short: the feed is a tab
        publish_all(bus, [received(1, session="a-very-long-session-id"), routed(1)])
        await wait_until(pilot, lambda: feed.row_count == 1 and feed.settled
                         and feed.size.width > 0)
        assert [key for key, _, _ in feed.layout_columns] == columns
        used = sum(width + 2 for _, _, width in feed.layout_columns)
        assert used <= feed.size.width - 4  # nothing runs off the table's right edge
        session = cell(feed, "req_1", "session")
        if size[0] >= 160:
            assert session == "a-very-long-session-id"  # room to spare: shown whole
        else:
            assert session.endswith("…")
