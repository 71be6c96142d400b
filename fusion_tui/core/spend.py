"""The spending rules inside a turn: refuse a request whose budget is spent, raise the tier
after failing tool results, keep a session on its cached model when that is cheaper, send
each tier's effort, stop the council near a budget, and price the finished turn against
the baseline. Each step is one call from core/pipeline.py or the turn engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from fusion_tui.config.tiers import Tier
from fusion_tui.core.budget import BUDGET_STATUS, BudgetState
from fusion_tui.core.state import ProxyState
from fusion_tui.events import BudgetReached, TierEscalated, TurnPriced
from fusion_tui.protocols import anthropic_codec
from fusion_tui.protocols.anthropic import estimate_request_tokens
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.wire import Wire
from fusion_tui.routing.effort import decide_effort, effort_for
from fusion_tui.routing.escalation import escalate
from fusion_tui.routing.explain import ReasonPart
from fusion_tui.routing.failures import FailureReport, recent_failures
from fusion_tui.routing.prices import Pricing, model_price, upstream_price, usage_cost
from fusion_tui.routing.router import GateVerdict, Overrides, RoutePlan
from fusion_tui.routing.stickiness import settle


class RequestFacts(Protocol):
    """What these rules read of a request (core/pipeline.RequestFacts)."""

    session_id: str
    request_id: str
    has_tools: bool
    body: dict[str, Any]
    wire: Wire
    notes: list[ReasonPart]

    @property
    def gate_body(self) -> Mapping[str, Any]: ...

    @property
    def has_tool_results(self) -> bool: ...


class BudgetSpent(Exception):
    """A budget is spent: the request is refused (`status`, the message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.status = BUDGET_STATUS


def refuse_if_spent(state: ProxyState, facts: RequestFacts) -> None:
    """Raise BudgetSpent (BudgetReached published) when the session's or the day's budget
    is spent."""
    check = state.budgets.check(facts.session_id)
    if check is not None and check.state == BudgetState.SPENT:
        state.publish(BudgetReached(session_id=facts.session_id, request_id=facts.request_id,
                                    budget=check.budget, state=check.state,
                                    spent_usd=check.spent_usd, limit_usd=check.limit_usd))
        raise BudgetSpent(check.message)


def failures_of(facts: RequestFacts, lookback: int) -> FailureReport:
    """The failure report of the request's latest tool results."""
    if not facts.has_tool_results:
        return FailureReport()
    request = anthropic_codec.decode_request(dict(facts.gate_body), Notes())
    return recent_failures(request, lookback)


def escalated(state: ProxyState, facts: RequestFacts, overrides: Overrides,
              verdict: GateVerdict | None) -> GateVerdict | None:
    """The gate's verdict raised by the escalation rule (TierEscalated published). A tier a
    person forced with the tier keys vetoes it (said as `escalation_vetoed:ui`)."""
    cfg = state.settings.routing.escalation
    tier = verdict.tier if verdict is not None else overrides.tier
    if not cfg.enabled or tier is None or not facts.has_tool_results:
        return verdict
    raised = escalate(tier, failures_of(facts, cfg.lookback), cfg)
    if raised is None:
        return verdict
    vetoed = verdict is None
    state.publish(TierEscalated(session_id=facts.session_id, request_id=facts.request_id,
                                from_tier=raised.from_tier, to_tier=raised.to_tier,
                                failures=raised.failures, vetoed=vetoed))
    if vetoed:
        facts.notes.append(ReasonPart("escalation_vetoed", overrides.source or "header"))
        return None
    assert verdict is not None
    return dataclasses.replace(verdict, tier=raised.to_tier,
                               reason=f"{verdict.reason},{raised.reason}")


def shape_plan(state: ProxyState, facts: RequestFacts, plan: RoutePlan) -> None:
    """Stay or switch (tool-free compact/regular turns), then each candidate's effort."""
    for note in facts.notes:
        plan.reason.add(note)
    if not facts.has_tools:
        settle(state.settings, plan, state.last_turns.get(facts.session_id),
               lambda: estimate_request_tokens(dict(facts.gate_body)))
    tier = Tier(plan.tier) if plan.tier else None
    kept_client = False
    for candidate in plan.candidates:
        routed = effort_for(state.settings, tier, candidate)
        if routed is None:
            continue  # nothing configured: the client's own value (if any) goes out unsaid
        effort, _ = decide_effort(state.settings, tier, candidate, facts.body, facts.wire)
        if effort:
            plan.efforts[candidate] = effort
        kept_client |= effort != routed
    if kept_client:
        plan.reason.add(ReasonPart("effort", "client"))


def council_budget_note(state: ProxyState, facts: RequestFacts) -> str | None:
    """`budget:session` / `budget:daily` when a budget is near (BudgetReached published):
    the council does not convene."""
    check = state.budgets.check(facts.session_id)
    if check is None or check.state != BudgetState.NEAR:
        return None
    state.publish(BudgetReached(session_id=facts.session_id, request_id=facts.request_id,
                                budget=check.budget, state=check.state,
                                spent_usd=check.spent_usd, limit_usd=check.limit_usd))
    return str(ReasonPart("budget", check.budget))


BASELINE_PRICES = 256
"""How many baseline prices (by the model a client asked for) are remembered; the memo starts
over when full (clients name models freely)."""


def _baseline_price(state: ProxyState, asked: str) -> tuple[str, Pricing | None]:
    """The model a turn is measured against (`savings.baseline`'s, else the one the client
    asked for) and its price. Looked up once per model: the settings do not change while the
    proxy runs, and a price-table lookup costs more than the rest of the reporting."""
    settings = state.settings
    key = "" if settings.savings.baseline else asked
    found = state.baseline_prices.get(key)
    if found is None:
        if settings.savings.baseline:
            found = (settings.upstream(settings.savings.baseline).model,
                     upstream_price(settings, settings.savings.baseline))
        else:
            found = model_price(settings, asked)
        if len(state.baseline_prices) >= BASELINE_PRICES:
            state.baseline_prices.clear()
        state.baseline_prices[key] = found
    return found


def price_turn(state: ProxyState, facts: RequestFacts, plan: RoutePlan | None,
               served_by: str, usage: dict[str, Any], cost_usd: float) -> None:
    """Publish the finished turn's TurnPriced (routed cost against the baseline) and
    remember its usage for the next stay-or-switch decision."""
    baseline_model, price = _baseline_price(state, str(facts.body.get("model", "")))
    read = int(usage.get("cache_read_input_tokens") or 0)
    prompt = (int(usage.get("input_tokens") or 0) + read
              + int(usage.get("cache_creation_input_tokens") or 0))
    state.publish(TurnPriced(
        session_id=facts.session_id, request_id=facts.request_id,
        tier=str(plan.tier) if plan is not None and plan.tier else "-",
        upstream_id=served_by, cost_usd=cost_usd, baseline_model=baseline_model,
        baseline_usd=usage_cost(usage, price) if price is not None else None,
        input_tokens=prompt, cache_read_tokens=read,
        effort=plan.efforts.get(served_by) if plan is not None else None))
    state.last_turns.record(facts.session_id, served_by, usage)
