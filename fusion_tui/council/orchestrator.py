"""Convene a council: advisors in parallel under one deadline, a judge, an optional hold.

The result is the briefing for the actor, or the reason the actor goes alone. Every step is
an event. Cancelling the caller cancels every advisor and the judge at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fusion_tui.config.council import CouncilSettings, HoldMode
from fusion_tui.config.tiers import Tier
from fusion_tui.council import prompts
from fusion_tui.council.calls import TextResult, gather_texts, stream_text
from fusion_tui.council.costs import CostBook
from fusion_tui.council.hold import HoldDecision, HoldDesk
from fusion_tui.council.seats import SAMPLE_MARK, Seat, seat_for
from fusion_tui.council.transcript import (
    advisor_messages,
    describe_tools,
    recent_context,
    system_text,
)
from fusion_tui.council.trigger import CouncilTrigger
from fusion_tui.events import Event
from fusion_tui.events.council import (
    AdvisorDelta,
    AdvisorFinished,
    AnswerState,
    BriefingDecided,
    BriefingDecision,
    BriefingDelta,
    BriefingHeld,
    BriefingReady,
    CostStage,
    CouncilConvened,
    CouncilFailed,
)
from fusion_tui.upstreams.base import Upstream, UpstreamError

ADVISE_NOW = "(Council: give your advice on the agent's next step now.)"
DECIDED = {BriefingDecision.APPROVE: "approved", BriefingDecision.EDIT: "edited",
           BriefingDecision.SKIP: "skipped"}
"""A person's decision as the route says it (`briefing:approved_<source>`)."""


class CouncilStatus(StrEnum):
    """How a council ended for the actor."""

    BRIEFED = "briefed"
    """The actor gets a briefing."""
    FAILED = "failed"
    """Below quorum or the judge failed: the actor goes alone (and the route says why)."""
    SKIPPED = "skipped"
    """A person (or the hold's timeout) skipped the briefing."""


@dataclass
class CouncilContext:
    """What a council needs from the proxy for one request."""

    session_id: str
    request_id: str
    upstreams: Mapping[str, Upstream]
    settings: CouncilSettings
    publish: Callable[[Event], None]
    costs: CostBook
    hold_desk: HoldDesk | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    tier: Tier | None = None


@dataclass
class Opinion:
    """One advisor's contribution."""

    advisor: str
    state: AnswerState
    text: str
    error: str | None = None


@dataclass
class CouncilOutcome:
    """The briefing for the actor (wrapped, ready to inject) or None, and why."""

    briefing: str | None
    status: CouncilStatus
    reason: str = ""
    opinions: list[Opinion] = field(default_factory=list)


def advisor_body(
    body: dict[str, Any], upstream: Upstream, max_tokens: int, perspective: str | None,
    temperature: float | None = None,
) -> dict[str, Any]:
    """The advisor's request: the conversation as text, the tools described, no tools field
    (a seat's own temperature when it has one)."""
    messages = advisor_messages(body)
    if messages and messages[-1]["role"] == "user":
        messages[-1] = {**messages[-1], "content": messages[-1]["content"] + "\n\n" + ADVISE_NOW}
    else:
        messages.append({"role": "user", "content": ADVISE_NOW})
    request: dict[str, Any] = {
        "model": upstream.settings.model,
        "max_tokens": max_tokens,
        "system": prompts.advisor_system(
            system_text(body), describe_tools(body.get("tools") or []), perspective
        ),
        "messages": messages,
    }
    if temperature is not None:
        request["temperature"] = temperature
    return request


def judge_body(
    body: dict[str, Any], upstream: Upstream, opinions_text: str, max_tokens: int
) -> dict[str, Any]:
    """The judge's request: the relevant context and the anonymised opinions."""
    content = (
        f"The conversation so far (most recent last):\n\n{recent_context(body)}\n\n"
        f"The advisors' opinions:\n\n{opinions_text}\n\nWrite the briefing."
    )
    return {
        "model": upstream.settings.model,
        "max_tokens": max_tokens,
        "system": prompts.JUDGE_INSTRUCTIONS,
        "messages": [{"role": "user", "content": content}],
    }


class Council:
    """One sitting of the council for one request."""

    def __init__(self, ctx: CouncilContext) -> None:
        self.ctx = ctx
        self.sid = ctx.session_id
        self.rid = ctx.request_id

    async def convene(
        self,
        body: dict[str, Any],
        actor: str,
        advisors: Sequence[str | Seat],
        judge: str | None,
        trigger: CouncilTrigger = CouncilTrigger.TIER,
    ) -> CouncilOutcome:
        """Run the council for `body`; never raises for an advisor's or the judge's failure.

        `advisors` are seats (or pool advisors' upstream ids); with `judge` None or
        `synthesize` off, the actor gets the anonymised opinions under a fixed header."""
        s = self.ctx.settings
        seats = [seat_for(a, s) for a in advisors]
        sampled = {seat.upstream for seat in seats if SAMPLE_MARK in seat.id}
        self.ctx.publish(
            CouncilConvened(
                session_id=self.sid,
                request_id=self.rid,
                advisors=[seat.id for seat in seats],
                judge=judge if s.synthesize else None,
                actor=actor,
                deadline_s=s.deadline_s,
                perspectives={seat.id: seat.perspective for seat in seats if seat.perspective},
                trigger=trigger,
                temperatures={
                    seat.id: seat.temperature for seat in seats if seat.temperature is not None
                },
                sampled=next(iter(sampled)) if len(sampled) == 1 else None,
            )
        )
        opinions = await self._deliberate(body, seats)
        answered = [o for o in opinions if o.state == AnswerState.OK]
        if len(answered) < s.quorum or not any(o.text.strip() for o in opinions):
            return self._failed(f"below_quorum:{len(answered)}/{max(s.quorum, 1)}", opinions)
        usable = [o for o in opinions if o.state != AnswerState.FAILED and o.text.strip()]
        rng = random.Random(self.ctx.request_id)
        rng.shuffle(usable)
        labelled = [(chr(ord("A") + i), o.text, o.state == AnswerState.PARTIAL)
                    for i, o in enumerate(usable)]
        order = [o.advisor for o in usable]
        opinions_text = prompts.labelled_opinions(labelled)
        started = time.monotonic()
        judged = bool(s.synthesize and judge)
        if judged and judge:
            try:
                briefing = await self._judge(body, judge, opinions_text)
            except (UpstreamError, TimeoutError) as exc:
                reason = "judge_timeout" if isinstance(exc, TimeoutError) else "judge_error"
                return self._failed(reason, opinions, str(exc))
        else:
            briefing = opinions_text
        self.ctx.publish(
            BriefingReady(
                session_id=self.sid,
                request_id=self.rid,
                text=briefing,
                judge=judge if judged else None,
                synthesized=judged,
                order=order,
                latency_ms=(time.monotonic() - started) * 1000,
            )
        )
        final, reason = await self._maybe_hold(briefing)
        if final is None:
            return CouncilOutcome(None, CouncilStatus.SKIPPED, reason, opinions)
        return CouncilOutcome(prompts.wrap_briefing(final, judged), CouncilStatus.BRIEFED, reason,
                              opinions)

    def _failed(
        self, reason: str, opinions: list[Opinion], detail: str | None = None
    ) -> CouncilOutcome:
        self.ctx.publish(
            CouncilFailed(
                session_id=self.sid,
                request_id=self.rid,
                reason=reason + (f": {detail}" if detail else ""),
            )
        )
        return CouncilOutcome(None, CouncilStatus.FAILED, f"council_failed:{reason}", opinions)

    async def _deliberate(self, body: dict[str, Any], seats: list[Seat]) -> list[Opinion]:
        s = self.ctx.settings
        upstream_of = {seat.id: seat.upstream for seat in seats}

        def advise(seat: Seat) -> Callable[[TextResult], Awaitable[None]]:
            upstream = self.ctx.upstreams[seat.upstream]
            request = advisor_body(body, upstream, s.advisor_max_tokens, seat.perspective,
                                   seat.temperature)

            def on_text(piece: str) -> None:
                self.ctx.publish(AdvisorDelta(session_id=self.sid, request_id=self.rid,
                                              advisor=seat.id, text=piece))

            return lambda result: stream_text(upstream, request, self.ctx.headers, result,
                                              on_text)

        contributions = await gather_texts({seat.id: advise(seat) for seat in seats},
                                           s.deadline_s, "advisor")
        opinions = []
        for c in contributions:
            advisor, state, error, result = c.name, c.state, c.error, c.result
            if result.usage or result.text:
                # Priced (and named in CostRecorded) as the upstream that was asked.
                self.ctx.costs.record(self.ctx.session_id, self.ctx.request_id,
                                      upstream_of[advisor], CostStage.ADVISOR, result.usage)
            self.ctx.publish(
                AdvisorFinished(
                    session_id=self.sid,
                    request_id=self.rid,
                    advisor=advisor,
                    state=state,
                    text=result.text,
                    error=error,
                    input_tokens=result.input_tokens,
                    output_tokens=result.output_tokens,
                    latency_ms=result.latency_ms,
                )
            )
            opinions.append(Opinion(advisor, state, result.text, error))
        return opinions

    async def _judge(self, body: dict[str, Any], judge: str, opinions_text: str) -> str:
        s = self.ctx.settings
        upstream = self.ctx.upstreams[judge]
        result = TextResult()
        try:
            async with asyncio.timeout(s.deadline_s):
                await stream_text(
                    upstream,
                    judge_body(body, upstream, opinions_text, s.judge_max_tokens),
                    self.ctx.headers,
                    result,
                    lambda piece: self.ctx.publish(
                        BriefingDelta(session_id=self.sid, request_id=self.rid, text=piece)
                    ),
                )
        finally:
            if result.usage or result.text:
                self.ctx.costs.record(
                    self.ctx.session_id, self.ctx.request_id, judge, CostStage.JUDGE, result.usage
                )
        if not result.text.strip():
            raise UpstreamError(f"{judge}: the briefing was empty")
        return result.text

    async def _maybe_hold(self, briefing: str) -> tuple[str | None, str]:
        """The briefing the actor gets (None: none) and the route reason saying so."""
        s = self.ctx.settings
        desk = self.ctx.hold_desk
        wanted = s.hold == HoldMode.ALWAYS or (s.hold == HoldMode.PLAN
                                               and self.ctx.tier == Tier.PLAN)
        if not wanted or desk is None or not desk.attached:
            return briefing, "council"
        self.ctx.publish(
            BriefingHeld(
                session_id=self.sid, request_id=self.rid, text=briefing, timeout_s=s.hold_timeout_s
            )
        )
        decision = await desk.wait(
            self.ctx.request_id, briefing, s.hold_timeout_s, s.hold_timeout_action
        )
        self.ctx.publish(
            BriefingDecided(
                session_id=self.sid,
                request_id=self.rid,
                decision=decision.decision,
                text=decision.text or "",
                source=decision.source,
            )
        )
        return decision.text, briefing_reason(decision)


def briefing_reason(decision: HoldDecision) -> str:
    """The route reason for a held briefing's fate: `briefing:approved_<source>`,
    `briefing:edited_<source>`, `briefing:skipped_<source>` or `briefing:timeout`."""
    if decision.decision == BriefingDecision.TIMEOUT:
        return "briefing:timeout"
    return f"briefing:{DECIDED[decision.decision]}_{decision.source}"
