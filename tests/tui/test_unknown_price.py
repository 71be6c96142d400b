"""A call with no known price is never shown as $0: the feed's cost cell says "?", the status
bar's total says "+ price unknown"."""

from __future__ import annotations

from fusion_tui.events import EventBus
from fusion_tui.events.council import CostRecorded
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.widgets import RequestFeed
from tests.tui.conftest import publish_all, wait_until
from tests.tui.events_factory import finished, received, routed
from tests.tui.test_feed import INFO, cell, status_text


def cost(request: int, usd: float, *, priced: bool) -> CostRecorded:
    return CostRecorded(session_id="s1", request_id=f"req_{request}", upstream_id="real",
                        stage="actor", input_tokens=1000, output_tokens=100, cost_usd=usd,
                        session_total_usd=usd, priced=priced)


async def test_priced_and_unpriced_costs_are_told_apart() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=(180, 40)) as pilot:  # wide: the feed shows its cost column
        feed = app.query_one(RequestFeed)
        publish_all(bus, [received(1), routed(1), cost(1, 0.25, priced=True), finished(1)])
        await wait_until(pilot, lambda: feed.row_count == 1 and feed.settled
                         and cell(feed, "req_1", "cost") == "0.250")
        assert "price unknown" not in status_text(app)

        publish_all(bus, [received(2), routed(2), cost(2, 0.0, priced=False), finished(2)])
        await wait_until(pilot, lambda: feed.row_count == 2 and feed.settled
                         and cell(feed, "req_2", "cost") == "?")
        await wait_until(pilot, lambda: "+ price unknown" in status_text(app))
        assert "total $0.2500 + price unknown" in status_text(app)
