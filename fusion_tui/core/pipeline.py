"""The request pipeline between the HTTP handlers and the upstreams: read the overrides and
the steering, ask the gate, let the router plan, decide whether a council sits, and call
upstreams with failover, re-pinning the session when its actor changes."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fusion_tui.config.council import SELF_ACTOR
from fusion_tui.config.tiers import Tier
from fusion_tui.core import spend
from fusion_tui.core.state import ProxyState
from fusion_tui.council.seats import Seat, sample_seats
from fusion_tui.council.trigger import CouncilTrigger, council_trigger
from fusion_tui.events import GateDecided, RouteChosen, SessionPinned, UpstreamFailed
from fusion_tui.events.council import CouncilSkipped
from fusion_tui.protocols.wire import Wire
from fusion_tui.routing.explain import ReasonPart, RouteReason
from fusion_tui.routing.failover import Attempt, FailoverResult, call_with_failover
from fusion_tui.routing.router import GateVerdict, Overrides, RouteOverrideError, RoutePlan
from fusion_tui.upstreams.base import Upstream, UpstreamReply


class RequestRejected(Exception):
    """The request cannot be routed: `status` and a message for the client's error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RequestFacts:
    """What the pipeline needs to know about one request. `gate_body` (the request in
    Anthropic shape, what the gate and the council read) is built on first use only."""

    def __init__(self, session_id: str, request_id: str, has_tools: bool,
                 headers: Mapping[str, str], body: dict[str, Any],
                 anthropic_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 body_overrides: Mapping[str, Any] | None = None,
                 wire: Wire = Wire.ANTHROPIC) -> None:
        self.session_id = session_id
        self.request_id = request_id
        self.has_tools = has_tools
        self.headers = headers
        self.body = body
        self._view = anthropic_view
        self.body_overrides = body_overrides or {}
        self.wire = wire
        """The client's protocol (where its effort field is)."""
        self.notes: list[ReasonPart] = []
        """Reasons found before the plan exists, added to it once made."""

    @functools.cached_property
    def gate_body(self) -> dict[str, Any]:
        """The request in Anthropic shape."""
        return self._view(self.body) if self._view else self.body

    @functools.cached_property
    def has_tool_results(self) -> bool:
        """Whether the conversation carries tool results (what escalation reads)."""
        return any(isinstance(block, dict) and block.get("type") == "tool_result"
                   for message in self.gate_body.get("messages", []) if isinstance(message, dict)
                   and isinstance(message.get("content"), list)
                   for block in message["content"])


async def plan_route(state: ProxyState, facts: RequestFacts) -> RoutePlan:
    """Overrides, steering and the gate's verdict, turned into a plan (RouteChosen published).

    Raises RequestRejected: 400 for a bad override, 402 when a budget is spent, 503 when
    smart routing needs the classifier and it is loading or failed (with the reason; never
    a silent fallback).
    """
    try:
        spend.refuse_if_spent(state, facts)
    except spend.BudgetSpent as exc:
        raise RequestRejected(exc.status, str(exc)) from exc
    try:
        overrides = Overrides.parse(facts.headers, facts.body_overrides)
    except RouteOverrideError as exc:
        raise RequestRejected(400, str(exc)) from exc
    unknown = [p for p in overrides.panel if p not in state.upstreams]
    if unknown:
        raise RequestRejected(400, f"x-fusion-panel: unknown upstream ids {', '.join(unknown)} "
                                   f"(known: {', '.join(state.upstreams)})")
    steered_tier = state.controls.steered_tier(facts.session_id)
    if steered_tier and overrides.tier is None:
        overrides = dataclasses.replace(overrides, tier=steered_tier, source="ui")
        if state.gate is not None:  # a person's choice is a labelled example for the gate
            state.gate.learn(facts.gate_body, steered_tier, facts.session_id)
    verdict = None
    if state.router.needs_gate(overrides):
        verdict = await _judge(state, facts, overrides)
    elif overrides.tier is not None:
        state.publish(GateDecided(session_id=facts.session_id, request_id=facts.request_id,
                                  tier=overrides.tier, scores={},
                                  reason=f"override:{overrides.source or 'header'}",
                                  overrides={"tier": overrides.tier}))
    verdict = spend.escalated(state, facts, overrides, verdict)
    plan = state.router.choose(facts.session_id, facts.has_tools, overrides, verdict)
    spend.shape_plan(state, facts, plan)
    # Taken only once the plan exists, so a request refused above leaves it for the next.
    plan.reason.add(state.controls.take_note(facts.session_id))
    state.publish(RouteChosen(session_id=facts.session_id, request_id=facts.request_id,
                              mode=plan.mode, tier=plan.tier or "-",
                              upstream_id=plan.upstream_id, route=plan.header))
    return plan


async def _judge(state: ProxyState, facts: RequestFacts, overrides: Overrides) -> GateVerdict:
    from fusion_tui.routing.gate import GateUnavailable

    if state.gate is None:
        raise RequestRejected(503, "smart routing needs the embedding classifier, and it is "
                                   "not running")
    try:
        decision = await state.gate.classify(facts.gate_body)
    except GateUnavailable as exc:
        raise RequestRejected(503, f"classifier unavailable: {exc}") from exc
    state.publish(GateDecided(session_id=facts.session_id, request_id=facts.request_id,
                              **decision.event_fields(),
                              overrides={"mode": overrides.mode} if overrides.mode else {}))
    return GateVerdict(Tier(decision.tier), decision.scores, decision.reason)


@dataclass(frozen=True)
class CouncilCall:
    """Who sits on a council for this request, or why none does."""

    convene: bool
    advisors: list[str]
    """The seats' ids (the route's `council=`)."""
    judge: str | None
    reason: str = ""
    perspectives: dict[str, str] = field(default_factory=dict)
    """Each advisor's stance: the configured ones overlaid by what a person set."""
    steered: list[str] = field(default_factory=list)
    """What a person changed in this council (added, replaced, judge, perspective)."""
    seats: list[Seat] = field(default_factory=list)
    """Who advises: an upstream, a temperature and a perspective each."""
    trigger: CouncilTrigger | None = None
    """Why the council sits."""


ESCALATED = "escalated"
"""The route reason kind of a tier raised for failing tool results (routing.escalation)."""


def council_for(state: ProxyState, facts: RequestFacts, plan: RoutePlan) -> CouncilCall:
    """Whether a council convenes for this tool turn (and says why not, when it would have).

    When it convenes, the plan's reason gains what the client should know before the council
    sits: the signal that convened it (`council_signal:<name>`), a self-consistency council
    (`self_consistency:<upstream>`) and a judge that does not sit (`judge:skipped` by
    config, `judge:unavailable` when no judge can be called). Near a budget neither a council
    nor a tool-free panel sits (the plan's panel is cleared, so its actor answers alone, said
    as `budget:session` / `budget:daily`)."""
    cfg = state.settings.council
    if plan.panel and not facts.has_tools:
        near = spend.council_budget_note(state, facts)
        if near:
            plan.panel = []
            return CouncilCall(False, [], None, near)
        return CouncilCall(False, [], None)
    trigger = council_trigger(cfg, plan.tier, plan.scores,
                              any(part.kind == ESCALATED for part in plan.reason))
    if not facts.has_tools or trigger is None:
        return CouncilCall(False, [], None)
    if not state.controls.council_enabled(facts.session_id, cfg.enabled):
        return CouncilCall(False, [], None, "council_off")
    actor = plan.upstream_id
    judges = [j for j in state.settings.pools.judge if state.breakers.allows(j)]
    sampling = cfg.self_consistency
    perspectives: dict[str, str] = {}
    steered: list[str] = []
    judge = judges[0] if judges else None
    if sampling is not None:
        sampled = actor if sampling.upstream == SELF_ACTOR else sampling.upstream
        seats = sample_seats(sampled, sampling)
    else:
        pool = [a for a in state.settings.pools.council if cfg.include_actor or a != actor]
        configured = {a: s.perspective for a, s in cfg.advisors.items() if s.perspective}
        composed = state.controls.compose(facts.session_id, pool, judges, configured)
        perspectives, steered = composed.perspectives, composed.steered
        if composed.judge and state.breakers.allows(composed.judge):
            judge = composed.judge
        seats = [Seat(a, a, None, perspectives.get(a)) for a in composed.advisors]
    # Muting an upstream (in the config or on the dashboard) mutes every seat it fills.
    names = [s.id for s in seats] + [s.upstream for s in seats]
    unmuted = set(state.controls.advisors_for(facts.session_id, names))
    seats = [s for s in seats if s.id in unmuted and s.upstream in unmuted
             and not (s.upstream in cfg.advisors and cfg.advisors[s.upstream].muted)
             and state.breakers.allows(s.upstream)]
    if not cfg.synthesize:
        judge = None
    near = spend.council_budget_note(state, facts)
    if near:
        return CouncilCall(False, [], None, near)
    reason = ""
    if not seats:
        reason = "no_advisors"
    elif not state.costs.budget_left(facts.session_id, cfg.budget_usd):
        reason = "budget_spent"
    if reason:
        state.publish(CouncilSkipped(session_id=facts.session_id,
                                     request_id=facts.request_id, reason=reason))
        return CouncilCall(False, [], None, f"council_skipped:{reason}")
    if trigger.is_signal:
        plan.reason.add(ReasonPart("council_signal", trigger))
    if sampling is not None:
        plan.reason.add(ReasonPart("self_consistency", seats[0].upstream))
    if not cfg.synthesize:
        plan.reason.add(ReasonPart("judge", "skipped"))
    elif judge is None:
        plan.reason.add(ReasonPart("judge", "unavailable"))
    return CouncilCall(True, [s.id for s in seats], judge, perspectives=perspectives,
                       steered=steered, seats=seats, trigger=trigger)


async def call_upstreams(state: ProxyState, facts: RequestFacts, plan: RoutePlan,
                         call: Callable[[Upstream], Awaitable[UpstreamReply]]) -> FailoverResult:
    """Call the plan's candidates in order with failover; UpstreamFailed for each failure,
    SessionPinned when a tool session gets (or changes) its actor."""

    def failed(attempt: Attempt, will_retry: bool) -> None:
        state.publish(UpstreamFailed(session_id=facts.session_id, request_id=facts.request_id,
                                     upstream_id=attempt.upstream_id, status=attempt.status,
                                     error=attempt.error, will_retry=will_retry))

    result = await call_with_failover(
        plan.candidates, lambda uid: call(state.upstreams[uid]), state.breakers,
        max_retry_wait_s=state.settings.routing.failover.max_retry_wait_s, on_failure=failed)
    if facts.has_tools and result.reply is not None and result.reply.ok and facts.session_id:
        pinned = state.router.pins.get(facts.session_id)
        if pinned != result.upstream_id:
            state.router.pins.pin(facts.session_id, result.upstream_id)
            state.publish(SessionPinned(
                session_id=facts.session_id, request_id=facts.request_id,
                upstream_id=result.upstream_id, previous=pinned,
                reason="failover" if pinned else "first tool turn"))
    return result


def route_header(plan: RoutePlan, result: FailoverResult | None = None,
                 extra: str | None = None) -> str:
    """The x-fusion-route value after serving (failover and council notes included)."""
    notes = RouteReason([extra])
    if result is not None and result.failed_over:
        notes.add(ReasonPart("failover", "+".join(a.upstream_id for a in result.attempts)))
    served = result.upstream_id if result is not None else None
    return plan.header_for(served, notes)
