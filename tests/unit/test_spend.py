"""The spending rules, sans-IO: failure signals, escalation, effort fields, the priced
stay-or-switch, the savings ledger and the budgets."""

from __future__ import annotations

import os
from typing import Any

import pytest

from fusion_tui.config import load_settings
from fusion_tui.config.council import Price
from fusion_tui.config.spend import BudgetSettings, EscalationSettings
from fusion_tui.config.tiers import Tier
from fusion_tui.core.budget import Budgets, BudgetState
from fusion_tui.council.savings import SpendLedger
from fusion_tui.events import CostRecorded, TurnPriced
from fusion_tui.protocols import anthropic_codec
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.wire import Wire
from fusion_tui.routing.effort import client_effort, decide_effort, effort_for, with_effort
from fusion_tui.routing.escalation import escalate
from fusion_tui.routing.failures import (
    FailureKind,
    FailureReport,
    recent_failures,
)
from fusion_tui.routing.stickiness import LastTurn, LastTurns, price_switch


def conversation(*results: tuple[str, bool]) -> dict[str, Any]:
    """A Messages body: a request, then one tool call and its result per (text, is_error)."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "fix the tests"}]
    for i, (text, is_error) in enumerate(results):
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {"command": "pytest"}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"t{i}", "content": text,
             "is_error": is_error}]})
    return {"model": "m", "max_tokens": 10, "messages": messages}


def report(*results: tuple[str, bool]) -> FailureReport:
    return recent_failures(anthropic_codec.decode_request(conversation(*results), Notes()))


@pytest.mark.parametrize(("text", "is_error", "kind"), [
    ("permission denied", True, FailureKind.IS_ERROR),
    ("make: *** [all] Error 2\nExit code 2", False, FailureKind.EXIT_CODE),
    ("subprocess.CalledProcessError: returned non-zero exit status 1", False,
     FailureKind.EXIT_CODE),
    ("==== 3 failed, 10 passed in 1.2s ====", False, FailureKind.TESTS_FAILED),
    ("--- FAIL: TestParse (0.00s)", False, FailureKind.TESTS_FAILED),
    ("test result: FAILED. 1 passed; 2 failed", False, FailureKind.TESTS_FAILED),
])
def test_each_failure_signal_is_recognised(text: str, is_error: bool,
                                           kind: FailureKind) -> None:
    found = report((text, is_error))
    assert kind in found.outcomes[-1].kinds and found.streak == 1


def test_passing_results_are_not_failures() -> None:
    found = report(("==== 12 passed in 0.5s ====", False), ("Exit code 0", False),
                   ("wrote 3 files", False))
    assert [o.failed for o in found.outcomes] == [False, False, False]
    assert found.streak == 0 and found.latest_passed


def test_the_same_error_line_twice_is_a_repeated_error() -> None:
    found = report(("Error: cannot find module 'x' (line 12)", False),
                   ("Error: cannot find module 'x' (line 14)", False))
    assert found.outcomes[0].kinds == ()
    assert found.outcomes[1].kinds == (FailureKind.REPEATED_ERROR,)
    assert found.streak == 1


def test_the_streak_counts_back_from_the_latest_result() -> None:
    failing = ("1 failed", False)
    assert report(failing, failing, failing).streak == 3
    assert report(failing, failing, failing, ("5 passed", False)).streak == 0
    assert report(("5 passed", False), failing, failing).streak == 2


def test_three_failures_raise_the_tier_one_step_and_plan_stays_plan() -> None:
    cfg = EscalationSettings()
    three = report(("x", True), ("x", True), ("x", True))
    raised = escalate(Tier.COMPACT, three, cfg)
    assert raised is not None and raised.to_tier == Tier.REGULAR
    assert str(raised.reason) == "escalated:3_failures"
    assert escalate(Tier.PLAN, three, cfg) is None
    assert escalate(Tier.REGULAR, report(("x", True), ("x", True)), cfg) is None
    assert escalate(Tier.COMPACT, three, EscalationSettings(steps=2)).to_tier == Tier.PLAN  # type: ignore[union-attr]
    assert escalate(Tier.COMPACT, three, EscalationSettings(enabled=False)) is None


def settings(**extra: Any) -> Any:
    ups = [{"id": i, "type": "simulated", "model": f"model-{i}"} for i in ("a", "b")]
    return load_settings(os.devnull, upstreams=ups, pools={"actor": ["a"]}, **extra)


def test_effort_per_tier_per_upstream_and_the_clients_own_value() -> None:
    cfg = settings(routing={"effort": {"compact": "low", "plan": "high"},
                            "effort_by_upstream": {"b": {"plan": "max"}}})
    assert effort_for(cfg, Tier.PLAN, "a") == "high"
    assert effort_for(cfg, Tier.PLAN, "b") == "max"
    assert effort_for(cfg, Tier.REGULAR, "a") is None
    assert effort_for(cfg, None, "a") is None
    asked = {"model": "m", "output_config": {"effort": "low", "format": {"type": "text"}}}
    assert decide_effort(cfg, Tier.PLAN, "a", asked, Wire.ANTHROPIC) == ("low", False)
    cfg.routing.effort_override = True
    assert decide_effort(cfg, Tier.PLAN, "a", asked, Wire.ANTHROPIC) == ("high", True)
    sent = with_effort(asked, Wire.ANTHROPIC, "high")
    assert sent["output_config"] == {"effort": "high", "format": {"type": "text"}}


@pytest.mark.parametrize(("wire", "expected"), [
    (Wire.ANTHROPIC, {"output_config": {"effort": "high"}}),
    (Wire.OPENAI, {"reasoning_effort": "high"}),
    (Wire.RESPONSES, {"reasoning": {"effort": "high", "summary": "auto"}}),
])
def test_effort_goes_in_each_protocols_field(wire: Wire, expected: dict[str, Any]) -> None:
    body: dict[str, Any] = {"model": "m"}
    if wire == Wire.RESPONSES:
        body["reasoning"] = {"summary": "auto"}
    sent = with_effort(body, wire, "high")
    assert sent == {"model": "m", **expected}
    assert client_effort(sent, wire) == "high" and client_effort(body, wire) is None


def test_a_switch_is_priced_against_the_cache_it_throws_away() -> None:
    last = LastTurns().record("s", "big", {"input_tokens": 100, "cache_read_input_tokens": 9000,
                                           "cache_creation_input_tokens": 900,
                                           "output_tokens": 200})
    assert last == LastTurn("big", 10_000, 9_900, 200)
    big = Price(input=3, output=15, cache_read=0.3)
    # stay: 9900 * 0.3 + 100 * 3 + 200 * 15 = 6270 micro-dollars
    # switch to a small model at input 1, output 5: 10000 * 1 + 200 * 5 = 11000
    priced = price_switch(last, 10_000, big, Price(input=1, output=5))
    assert (round(priced.stay_usd * 1e6), round(priced.switch_usd * 1e6)) == (6270, 11000)
    assert priced.stay
    # a much cheaper target (input 0.25, output 1.25): 2500 + 250 = 2750 < 6270
    cheaper = price_switch(last, 10_000, big, Price(input=0.25, output=1.25))
    assert round(cheaper.switch_usd * 1e6) == 2750 and not cheaper.stay


def priced(session: str, tier: str, cost: float, baseline: float | None, inp: int,
           read: int) -> TurnPriced:
    return TurnPriced(session_id=session, tier=tier, upstream_id="u", cost_usd=cost,
                      baseline_model="big", baseline_usd=baseline, input_tokens=inp,
                      cache_read_tokens=read)


def test_the_ledger_matches_a_hand_computation() -> None:
    ledger = SpendLedger()
    ledger.apply(priced("s1", "compact", 0.001, 0.010, 1000, 0))
    ledger.apply(priced("s1", "regular", 0.004, 0.012, 2000, 1500))
    ledger.apply(priced("s1", "plan", 0.020, 0.020, 1000, 500))
    ledger.apply(priced("s2", "regular", 0.003, None, 400, 100))
    ledger.apply(CostRecorded(session_id="s1", upstream_id="u", stage="actor",
                              input_tokens=100, cache_read_tokens=800, cache_write_tokens=100))
    s1 = ledger.sessions["s1"].as_dict()
    assert s1["cost_usd"] == 0.025 and s1["baseline_usd"] == 0.042
    assert s1["saved_usd"] == 0.017  # 0.042 - 0.025
    assert s1["cache_hit_rate"] == 0.5  # (1500 + 500) / 4000
    assert s1["tier_shares"] == {"compact": 0.3333, "plan": 0.3333, "regular": 0.3333}
    s2 = ledger.sessions["s2"].as_dict()
    assert s2["saved_usd"] is None and s2["baseline_usd"] is None
    total = ledger.total.as_dict()
    assert total["cost_usd"] == 0.028 and total["saved_usd"] == 0.017
    assert total["turns"] == 4 and total["priced_turns"] == 3
    assert total["tier_shares"]["regular"] == 0.5
    assert ledger.as_dict()["upstreams"]["u"]["cache_hit_rate"] == 0.8  # 800 / 1000


def test_budgets_go_near_then_spent_per_session_and_per_day() -> None:
    day = ["2026-12-05"]
    budgets = Budgets(BudgetSettings(session_usd=1.0, daily_usd=3.0, near=0.8),
                      today=lambda: day[0])
    spend = lambda sid, usd: budgets.apply(  # noqa: E731
        CostRecorded(session_id=sid, upstream_id="u", stage="actor", cost_usd=usd))
    spend("s1", 0.5)
    assert budgets.check("s1") is None
    spend("s1", 0.3)
    near = budgets.check("s1")
    assert near is not None and (near.budget, near.state) == ("session", BudgetState.NEAR)
    spend("s1", 0.2)
    spent = budgets.check("s1")
    assert spent is not None and spent.state == BudgetState.SPENT
    assert "session budget spent: $1.0000 of $1.0000" in spent.message
    assert budgets.check("s2") is None
    spend("s2", 0.9)
    spend("s3", 0.6)  # the day: 2.5 of 3.0 -> near for everyone
    daily = budgets.check("s4")
    assert daily is not None and (daily.budget, daily.state) == ("daily", BudgetState.NEAR)
    spend("s3", 0.5)
    assert budgets.check("s4").state == BudgetState.SPENT  # type: ignore[union-attr]
    day[0] = "2026-12-06"  # a new day starts from zero
    assert budgets.check("s4") is None


REQUESTS = {
    Wire.ANTHROPIC: {"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": "plan it"}]},
    Wire.OPENAI: {"model": "m", "messages": [{"role": "user", "content": "plan it"}]},
    Wire.RESPONSES: {"model": "m", "input": "plan it"},
}
OPTIONS: dict[Wire, dict[str, Any]] = {
    Wire.ANTHROPIC: {"default_max_tokens": 10}, Wire.OPENAI: {"token_field": "max_tokens"},
    Wire.RESPONSES: {}}


@pytest.mark.parametrize("source", list(Wire))
@pytest.mark.parametrize("target", list(Wire))
def test_the_effort_survives_translation_to_every_protocol(source: Wire,
                                                           target: Wire) -> None:
    """A routed effort set in the client's protocol reaches an upstream that speaks another
    one in that protocol's own field, with no note."""
    from fusion_tui.protocols.translation import translate

    notes = Notes()
    body = with_effort(REQUESTS[source], source, "high")
    sent = translate(body, source, target, notes, model="up", **OPTIONS[target])
    assert client_effort(sent, target) == "high"
    assert not [n for n in notes.items if "effort" in n or "reasoning" in n]
