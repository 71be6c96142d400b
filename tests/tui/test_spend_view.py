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
