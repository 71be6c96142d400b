"""A listener that raises never breaks a publisher, and is never silent: one warning with
its traceback per listener, and per-listener counts in the bus's health (and /health)."""

from __future__ import annotations

import logging

from fusion_tui.events import EventBus, SteeringApplied
from tests.support.http import call


class Broken:
    def __call__(self, event: object) -> None:
        raise ValueError("listener bug")


def test_a_failing_listener_is_logged_once_and_counted(caplog) -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.listen(Broken())
    bus.listen(seen.append)
    with caplog.at_level(logging.WARNING, logger="fusion_tui.events.bus"):
        for _ in range(3):
            bus.publish(SteeringApplied(action="x"))
    assert len(seen) == 3  # the others still get every event
    warnings = [r for r in caplog.records if "failed on steering_applied" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is not None
    assert "Broken" in warnings[0].getMessage()
    health = bus.health()
    assert health["listener_errors"] == 3
    [(name, entry)] = health["failing_listeners"].items()
    assert name.endswith("Broken")
    assert entry == {"errors": 3, "last_error": "ValueError: listener bug",
                     "event": "steering_applied"}


async def test_health_shows_failing_listeners(make_settings, start_proxy) -> None:
    runtime = await start_proxy(make_settings())
    runtime.bus.listen(Broken())
    runtime.bus.publish(SteeringApplied(action="x"))
    health = (await call(runtime.address, "GET", "/health")).json()
    assert health["events"]["listener_errors"] == 1
    assert next(iter(health["events"]["failing_listeners"])).endswith("Broken")
