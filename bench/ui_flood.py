"""UI flood: four advisors streaming at 200 tokens/s each plus a busy feed, for ~10 s,
through the bridge into a headless dashboard. Prints a table.

    .venv/bin/python -m bench.ui_flood [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from typing import Any

from fusion_tui.events import (
    AdvisorDelta,
    CouncilConvened,
    EventBus,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
)
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens.dashboard import DashboardScreen
from tests.tui.council_factory import INFO, make_controls

ADVISORS = ("adv-a", "adv-b", "adv-c", "adv-d")
SESSION = "bench-session"


async def produce(bus: EventBus, seconds: float, tokens_per_s: float, feed_per_s: float) -> int:
    """Publish deltas and feed traffic at the target rates; returns events published."""
    rid = "req_council"
    bus.publish(RequestReceived(session_id=SESSION, request_id=rid, protocol="anthropic",
                                path="/v1/messages", model="m", stream=True, client="bench",
                                tools=3, messages=2, body_bytes=100))
    bus.publish(CouncilConvened(session_id=SESSION, request_id=rid, advisors=list(ADVISORS),
                                judge=None, actor="sim-actor", deadline_s=60))
    published, tick = 2, 0.01
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < seconds:
        for advisor in ADVISORS:
            for _ in range(max(1, round(tokens_per_s * tick))):
                bus.publish(AdvisorDelta(session_id=SESSION, request_id=rid, advisor=advisor,
                                         text=f"tok{n % 97} "))
                published += 1
        for _ in range(max(1, round(feed_per_s * tick))):
            n += 1
            other = f"req_{n}"
            for event in (RequestReceived(session_id=f"s{n % 7}", request_id=other,
                                          protocol="openai", path="/v1/chat/completions",
                                          model="m", stream=False, client="bench", tools=0,
                                          messages=1, body_bytes=10),
                          RouteChosen(session_id=f"s{n % 7}", request_id=other, mode="single",
                                      tier="compact", upstream_id="sim-fast", route="x"),
                          ResponseFinished(session_id=f"s{n % 7}", request_id=other,
                                           status=200, upstream_id="sim-fast", route="x",
                                           latency_ms=12.0)):
                bus.publish(event)
                published += 1
        await asyncio.sleep(tick)
    return published


async def run(seconds: float) -> dict[str, Any]:
    """Run the flood; returns the measurements."""
    bus = EventBus()
    controls = make_controls(bus)
    app = FusionApp(bus, info=INFO, controls=controls)
    latencies: list[float] = []
    max_batch = 0
    tracemalloc.start()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        original = app.bridge.flush

        def flush(events: Any) -> None:
            nonlocal max_batch
            max_batch = max(max_batch, len(events))
            original(events)

        app.bridge.flush = flush  # type: ignore[method-assign]
        await pilot.pause(0.5)
        base = tracemalloc.get_traced_memory()[0]
        producer = asyncio.ensure_future(produce(bus, seconds, 200.0, 20.0))
        pressed: list[float] = []
        handler = screen.action_force_tier

        def timed(tier: str) -> None:
            latencies.append(time.perf_counter() - pressed[-1])
            handler(tier)

        screen.action_force_tier = timed  # type: ignore[method-assign]
        started = time.perf_counter()
        while not producer.done():
            await asyncio.sleep(0.5)
            if screen.selected:
                pressed.append(time.perf_counter())
                await pilot.press("1")
        published = await producer
        while app.bridge.events < published - app.bridge.subscription.dropped:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        grown = tracemalloc.get_traced_memory()[0] - base
        handled = app.bridge.events
    tracemalloc.stop()
    return {"published": published, "handled": handled, "elapsed_s": elapsed,
            "events_per_s": handled / elapsed, "batches": app.bridge.batches,
            "max_batch": max_batch, "dropped": app.bridge.subscription.dropped,
            "mem_growth_mb": grown / 1e6,
            "key_p50_ms": 1000 * sorted(latencies)[len(latencies) // 2] if latencies else -1,
            "key_max_ms": 1000 * max(latencies, default=-1), "key_presses": len(latencies)}


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    result = asyncio.run(run(args.seconds))
    width = max(len(k) for k in result)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  -----"]
    for key, value in result.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        lines.append(f"{key:<{width}}  {shown}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
