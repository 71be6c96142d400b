"""The status bar shows the classifier as it loads, fails (red, with the reason) or runs on the
offline fallback model (said loudly)."""

from __future__ import annotations

from fusion_tui.events import ClassifierStateChanged, EventBus
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.widgets import StatusBar
from tests.tui.conftest import wait_until
from tests.tui.council_factory import INFO


async def test_loading_failed_and_fallback_are_shown() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO, clock=lambda: 0.0)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)

        def line() -> str:
            return bar.classifier_line().plain

        bus.publish(ClassifierStateChanged(state="loading", model="jinaai/jina-v2", progress=0.4))
        await wait_until(pilot, lambda: "loading" in line())
        assert "40%" in line()

        bus.publish(ClassifierStateChanged(state="failed", model="jinaai/jina-v2",
                                           error="tokenizer.json missing in /models/x"))
        await wait_until(pilot, lambda: "FAILED" in line())
        assert "tokenizer.json missing in /models/x" in line()
        spans = bar.classifier_line().spans
        assert spans and "error" in str(spans[0].style)

        bus.publish(ClassifierStateChanged(
            state="ready", model="all-MiniLM-L6-v2-int8 (offline fallback)", device="cpu",
            error="offline fallback: the hub is unreachable"))
        await wait_until(pilot, lambda: "FAILED" not in line() and "loading" not in line())
        assert "TEST MODEL (offline fallback)" in line()
        assert "all-MiniLM-L6-v2-int8 (offline fallback) on cpu ready" in line()
