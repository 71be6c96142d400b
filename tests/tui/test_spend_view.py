"""Savings, cache hit rate and escalation as the dashboard folds them (room model and the
sessions list's cells)."""

from __future__ import annotations

from fusion_tui.events import GateDecided, TierEscalated, TurnPriced
from fusion_tui.tui.room import RoomModel
from fusion_tui.tui.widgets.session_list import SessionList


def priced(rid: str, cost: float, baseline: float | None, inp: int, read: int) -> TurnPriced:
    return TurnPriced(session_id="s", request_id=rid, tier="regular", upstream_id="u",
                      cost_usd=cost, baseline_model="big", baseline_usd=baseline,
                      input_tokens=inp, cache_read_tokens=read)


def test_the_sessions_list_shows_saved_cache_and_an_escalated_tier() -> None:
    model = RoomModel()
    model.apply([GateDecided(session_id="s", request_id="r1", tier="regular", scores={},
                             reason="lr:regular"),
                 priced("r1", 0.010, 0.050, 1000, 0)])
    view = model.sessions["s"]
    cells = SessionList(model).cells(view)
    assert (str(cells["saved"]), str(cells["cache"]), cells["tier"]) == ("0.040", "0%",
                                                                          "regular")
    model.apply([GateDecided(session_id="s", request_id="r2", tier="regular", scores={},
                             reason="lr:regular"),
                 TierEscalated(session_id="s", request_id="r2", from_tier="regular",
                               to_tier="plan", failures=3),
                 priced("r2", 0.020, None, 3000, 3000)])
    cells = SessionList(model).cells(view)
    assert view.escalated and cells["tier"] == "regular↑"
    assert str(cells["saved"]) == "0.040"  # the unpriced baseline adds nothing
    assert str(cells["cache"]) == "75%"  # 3000 / 4000
    model.apply([GateDecided(session_id="s", request_id="r3", tier="compact", scores={},
                             reason="lr:compact")])
    assert SessionList(model).cells(view)["tier"] == "compact"


def test_a_vetoed_escalation_does_not_mark_the_tier() -> None:
    model = RoomModel()
    model.apply([TierEscalated(session_id="s", request_id="r1", from_tier="regular",
                               to_tier="plan", failures=3, vetoed=True)])
    view = model.sessions["s"]
    assert not view.escalated and str(SessionList(model).cells(view)["saved"]) == "-"


async def test_the_status_bar_says_saved_and_cache_once_a_turn_is_priced() -> None:
    from fusion_tui.events import EventBus
    from fusion_tui.tui.app import FusionApp
    from fusion_tui.tui.widgets import StatusBar
    from tests.tui.conftest import wait_until
    from tests.tui.council_factory import INFO

    bus = EventBus()
    app = FusionApp(bus, info=INFO, clock=lambda: 0.0)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)
        assert "saved" not in bar.render().plain
        bus.publish(priced("r1", 0.010, 0.050, 1000, 0))
        bus.publish(priced("r2", 0.020, 0.030, 3000, 3000))
        await wait_until(pilot, lambda: "saved" in bar.render().plain)
        assert "saved $0.0500 · cache 75%" in bar.render().plain  # 0.08 - 0.03; 3000 / 4000
