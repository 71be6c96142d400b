"""One request's turn, from the parsed request to the reported outcome.

`serve_turn` owns a request's life after the server parsed it: it publishes the arrival,
plans the route (overrides, steering, the gate), answers straight from an upstream (with
failover), through a council (advisors, judge, then the actor with the briefing) or through
the panel, and finally reports what happened (translation notes, the actor's tool calls,
the cost, ResponseFinished). Everything that must reach the client goes through `Client`,
which the server implements; nothing here knows HTTP.

While a council or panel sits, a streaming client already has its response open: the
protocol's opening bytes, then keep-alives, so no client times out and the first byte is
quick. The route header goes out with the opening, so the council's outcome (and the final
route) is also written into the stream as an SSE comment line, said in the events and on
screen. A client that hangs up cancels every advisor, the judge and the actor at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from fusion_tui.config.council import AdvisorSettings, PanelMethod
from fusion_tui.config.settings import RecordMode
from fusion_tui.core.engine.client import Client
from fusion_tui.core.engine.dialects import Dialect
from fusion_tui.core.engine.outcome import Outcome
from fusion_tui.core.pipeline import (
    CouncilCall,
    RequestFacts,
    RequestRejected,
    call_upstreams,
    council_for,
    plan_route,
    route_header,
)
from fusion_tui.core.spend import price_turn
from fusion_tui.core.state import ProxyState
from fusion_tui.council import render
from fusion_tui.council.calls import TextResult, stream_text
from fusion_tui.council.costs import cost_of
from fusion_tui.council.orchestrator import Council, CouncilContext
from fusion_tui.council.panel import PanelResult, gather_answers, judge_request, pick_ranked
from fusion_tui.council.trigger import CouncilTrigger
from fusion_tui.events import (
    ActorToolCalled,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    TranslationNote,
)
from fusion_tui.events.council import ActorStarted, CostStage
from fusion_tui.protocols.errors import read_error
from fusion_tui.routing import session_id_for
from fusion_tui.routing.effort import client_effort, with_effort
from fusion_tui.routing.explain import ReasonPart, RouteReason, format_route
from fusion_tui.routing.router import RoutePlan
from fusion_tui.upstreams import Upstream, UpstreamError, UpstreamReply
from fusion_tui.upstreams.http import DEPTH_HEADER, OUTGOING_DEPTH

ROUTE_HEADER = "x-fusion-route"
COST_HEADER = "x-fusion-cost"
REQUEST_ID_HEADER = "x-fusion-request-id"
OWN_BODY_FIELDS = ("fusion_route", "fusion_tier")
"""Body fields a client may set for fusion-tui (route and tier overrides); stripped before
any upstream call, on every surface."""
T = TypeVar("T")


@dataclass(frozen=True)
class Arrival:
    """What the server knows of a request besides its body."""

    headers: Mapping[str, str]
    """The request's headers, names lower-cased."""
    path: str
    client: str
    """Who sent it (the User-Agent's first word)."""
    body_bytes: int
    started: float = field(default_factory=time.monotonic)
    """time.monotonic() when the request arrived."""


def sse_comment(text: str) -> bytes:
    """An SSE comment line: clients ignore it, the wire (and curl) shows it."""
    return b": " + text.replace("\n", " ").encode() + b"\n\n"


async def serve_turn(state: ProxyState, dialect: Dialect, body: dict[str, Any],
                     arrival: Arrival, client: Client) -> None:
    """Serve one parsed chat request: plan its route (gate, steering, overrides), then
    answer directly, through a council, or through the panel, and report the outcome.

    A client that hangs up cancels the turn (CancelledError propagates, after
    RequestCancelled); a request a person dropped from the dashboard ends with an error."""
    headers = arrival.headers
    session_id = session_id_for(headers, body)
    request_id = state.new_request_id()
    keep_body = state.settings.sessions.record == RecordMode.FULL
    state.publish(RequestReceived(
        session_id=session_id, request_id=request_id, protocol=dialect.protocol,
        path=arrival.path, model=str(body["model"]), stream=bool(body.get("stream")),
        client=arrival.client, tools=len(body.get("tools") or []),
        messages=len(body["messages"]), body_bytes=arrival.body_bytes,
        body=dialect.as_sent(body) if keep_body else None))
    overrides = {k: body[k] for k in OWN_BODY_FIELDS if k in body}
    if overrides:  # fusion-tui's own fields: never sent on (real APIs refuse unknown fields)
        body = {k: v for k, v in body.items() if k not in OWN_BODY_FIELDS}
    facts = RequestFacts(session_id, request_id, bool(body.get("tools")), headers, body,
                         dialect.anthropic_view, overrides, dialect.protocol)
    turn = Turn(client, dialect, state, body, facts, arrival.started)
    OUTGOING_DEPTH.set(_depth(headers) + 1)
    state.controls.track(request_id, session_id, body)
    try:
        again = state.controls.dropped_before(session_id, body) if session_id else None
        if again is not None:  # a retry of what a person dropped: it stays dropped
            await turn.dropped(again)
            return
        try:
            plan = await plan_route(state, facts)
        except RequestRejected as exc:
            turn.outcome = Outcome(exc.status, error=str(exc))
            client.fail(exc.status, str(exc), {REQUEST_ID_HEADER: request_id})
            return
        council = council_for(state, facts, plan)
        if council.convene:
            await turn.council(plan, council)
        elif plan.panel and not facts.has_tools:
            await turn.panel(plan)
        else:
            await turn.direct(plan, extra_reason=council.reason or None)
        await client.send()
    except (asyncio.CancelledError, ConnectionResetError):
        if state.controls.was_dropped(request_id):
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            await turn.dropped()
            return
        state.publish(RequestCancelled(session_id=session_id, request_id=request_id))
        turn.outcome = Outcome(499, error="client disconnected")
        raise
    except Exception as exc:  # the server answers 500; the recording must say so too
        turn.outcome = Outcome(500, error=f"fusion-tui internal error: {type(exc).__name__}")
        raise
    finally:
        state.controls.untrack(request_id)
        turn.report(keep_body)


def _depth(headers: Mapping[str, str]) -> int:
    """The request's x-fusion-depth (0 when absent or not a number: the router rejects a
    malformed one with a 400 anyway)."""
    try:
        return max(0, int(headers.get(DEPTH_HEADER, "0") or 0))
    except ValueError:
        return 0


DROPPED_STATUS = 400
"""A dropped request is answered as a request error (invalid_request_error; in a stream
already open, the protocol's error event of that type): clients and SDKs retry a 5xx, which
would send the dropped request straight back."""

DROPPED_MESSAGE = ("request dropped by a person in the fusion-tui dashboard ({source}); it "
                   "will not be served: do not retry it, send a new request to go on")


@dataclass
class Turn:
    """Serves one routed request and remembers what must be reported."""

    client: Client
    dialect: Dialect
    state: ProxyState
    body: dict[str, Any]
    facts: RequestFacts
    started: float
    outcome: Outcome = field(default_factory=lambda: Outcome(0))
    served_by: str = ""
    route: str = ""
    stage: CostStage | None = CostStage.ACTOR
    """What the relayed answer's cost is booked as when it is reported (None: booked
    already, a panel member's answer returned as it was)."""
    reply: UpstreamReply | None = None
    opened: bool = False
    plan: RoutePlan | None = None

    @property
    def stream(self) -> bool:
        """The client asked for a stream."""
        return bool(self.body.get("stream"))

    def _headers(self, route: str) -> dict[str, str]:
        self.route = route
        return {ROUTE_HEADER: route, REQUEST_ID_HEADER: self.facts.request_id}

    async def _open(self, route: str) -> None:
        if self.stream:
            await self.client.open(self._headers(route), self.dialect.opening(
                self.facts.request_id, str(self.body.get("model", ""))))
            self.opened = True

    async def _sitting(self, work: Awaitable[T]) -> T:
        """Await `work`, writing keep-alives into an opened stream; cancelling the turn
        cancels the work."""
        task = asyncio.ensure_future(work)
        interval = self.state.settings.council.ping_interval_s
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=interval)
                if done:
                    return task.result()
                if self.opened:
                    await self.client.write(self.dialect.keepalive)
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _fail(self, status: int, message: str, route: str) -> None:
        """An error before any answer: an error body, or an error inside the opened stream."""
        self.outcome = Outcome(status, error=message)
        if not self.opened:
            self.client.fail(status, message, self._headers(route))
            return
        self.route = route  # the recording says how it ended, as the stream's comment does
        await self.client.write(sse_comment(f"{ROUTE_HEADER}: {route}"))
        await self.client.write(self.dialect.stream_error(status, message))
        await self.client.end()

    async def _relay(self, reply: UpstreamReply, route: str) -> None:
        self.reply = reply
        headers = self._headers(route)
        if self.opened:
            if not reply.ok or reply.stream is None:
                message = read_error(reply.body, reply.status).message
                await reply.close()
                await self._fail(reply.status if not reply.ok else 502,
                                 f"upstream {self.served_by}: {message}", route)
                return
            await self.client.write(sse_comment(f"{ROUTE_HEADER}: {route}"))
        self.outcome = await self.client.relay(reply, headers, self.stream, self.started)
        if not self.opened and not (self.stream and reply.stream is not None):
            spent = self.cost_so_far()
            self.client.add_header(COST_HEADER,
                                   f"{spent:.6f}" if self.cost_known() else "unknown")

    def cost_so_far(self) -> float:
        """Dollars spent on this request, including the reply being relayed."""
        spent = self.state.costs.request_total(self.facts.request_id)
        if self.outcome.usage and self.served_by:
            price = self.state.costs.prices.get(self.served_by)
            spent += cost_of(self.outcome.usage, price)
        return spent

    def cost_known(self) -> bool:
        """False when a call of this request, the reply included, had no price."""
        served = self.state.costs.prices.get(self.served_by) if self.served_by else None
        return (self.state.costs.request_priced(self.facts.request_id)
                and not (self.outcome.usage and self.served_by and served is None))

    async def direct(self, plan: RoutePlan, body: dict[str, Any] | None = None,
                     extra_reason: str | None = None) -> None:
        """Call the plan's candidates with failover and relay the answer."""
        self.plan = plan
        sent = self.body if body is None else body
        headers = self.facts.headers
        wire = self.dialect.protocol

        def call(upstream: Upstream) -> Awaitable[UpstreamReply]:
            effort = plan.efforts.get(upstream.settings.id)
            if effort and client_effort(sent, wire) != effort:
                return self.dialect.call(upstream, with_effort(sent, wire, effort), headers)
            return self.dialect.call(upstream, sent, headers)

        result = await call_upstreams(self.state, self.facts, plan, call)
        self.served_by = result.upstream_id
        route = route_header(plan, result, extra_reason)
        if result.reply is None:
            error = result.error
            status = error.http_status() if error is not None else 502
            tried = ", ".join(a.upstream_id for a in result.attempts)
            await self._fail(status, f"every upstream failed (tried {tried}): {error}", route)
            return
        await self._relay(result.reply, route)

    async def council(self, plan: RoutePlan, call: CouncilCall) -> None:
        """Advisors deliberate, the judge briefs, the actor acts with the real tools."""
        self.plan = plan
        plan.council = call.advisors
        plan.actor = plan.upstream_id
        if call.steered:
            plan.reason.add(ReasonPart("council_steered", "+".join(call.steered)))
        await self._open(plan.header_for(None, "council"))
        settings = self.state.settings.council
        stances = {a: AdvisorSettings(perspective=call.perspectives.get(a))
                   for a in call.advisors}
        cfg = settings.model_copy(update={"hold": self.state.controls.hold_mode,
                                          "advisors": {**settings.advisors, **stances}})
        ctx = CouncilContext(self.facts.session_id, self.facts.request_id,
                             self.state.upstreams, cfg, self.state.publish, self.state.costs,
                             self.state.hold_desk, self.facts.headers, plan.tier)
        outcome = await self._sitting(Council(ctx).convene(
            self.facts.gate_body, plan.upstream_id, call.seats, call.judge,
            call.trigger or CouncilTrigger.TIER))
        body = self.dialect.inject(self.body, outcome.briefing) if outcome.briefing else None
        self.state.publish(ActorStarted(session_id=self.facts.session_id,
                                        request_id=self.facts.request_id,
                                        actor=plan.upstream_id, briefed=body is not None))
        await self.direct(plan, body, outcome.reason)

    async def panel(self, plan: RoutePlan) -> None:
        """Members answer in parallel; the judge fuses them (synthesize) or picks one (rank)."""
        self.plan = plan
        settings = self.state.settings.panel
        await self._open(plan.header_for(plan.panel[0], f"panel:{settings.method}"))
        ctx = CouncilContext(self.facts.session_id, self.facts.request_id,
                             self.state.upstreams, self.state.settings.council,
                             self.state.publish, self.state.costs, None, self.facts.headers,
                             plan.tier)
        view = self.facts.gate_body
        result = await self._sitting(gather_answers(view, plan.panel, ctx, settings))
        if not result.usable:
            errors = "; ".join(f"{a.member}: {a.error}" for a in result.answers)
            await self._fail(502, f"every panel member failed: {errors}",
                             plan.header_for(plan.panel[0], "panel_failed"))
            return
        judges = [j for j in self.state.settings.pools.judge if self.state.breakers.allows(j)]
        if settings.method == PanelMethod.SYNTHESIZE and judges:
            await self._synthesize(plan, view, result, judges[0])
            return
        await self._ranked(plan, view, result, judges[0] if judges else None)

    async def _synthesize(self, plan: RoutePlan, view: dict[str, Any], result: PanelResult,
                          judge: str) -> None:
        upstream = self.state.upstreams[judge]
        request = judge_request(view, result, upstream.settings.model, PanelMethod.SYNTHESIZE)
        request["stream"] = self.stream
        self.stage, self.served_by = CostStage.JUDGE, judge
        try:
            reply = await self._sitting(upstream.messages(request, self.facts.headers))
        except UpstreamError as exc:
            await self._ranked(plan, view, result, None, f"judge_failed:{exc.status}")
            return
        if not reply.ok:
            await reply.close()
            await self._ranked(plan, view, result, None, f"judge_failed:{reply.status}")
            return
        converted = self.dialect.from_anthropic(reply, self.body, upstream.settings.model)
        await self._relay(converted, plan.header_for(judge, "panel:synthesize"))

    async def _ranked(self, plan: RoutePlan, view: dict[str, Any], result: PanelResult,
                      judge: str | None, note: str | None = None) -> None:
        """Return one member's answer as it was: the judge's pick, else (said in the route)
        the first usable answer."""
        reason = note or "panel:rank"
        chosen = result.usable[0]
        if judge is not None:
            verdict = TextResult()
            try:
                await self._sitting(stream_text(
                    self.state.upstreams[judge],
                    judge_request(view, result, self.state.upstreams[judge].settings.model,
                                  PanelMethod.RANK), self.facts.headers, verdict))
                chosen, matched = pick_ranked(result, verdict.text)
                if not matched:
                    reason = "panel:rank_unparsed_first_answer"
            except UpstreamError as exc:
                reason = f"panel:judge_failed_first_answer:{exc.status}"
            finally:
                if verdict.usage:
                    self.state.costs.record(self.facts.session_id, self.facts.request_id,
                                            judge, CostStage.JUDGE, verdict.usage)
        elif note is None:
            reason = "panel:no_judge_first_answer"
        self.served_by, self.stage = chosen.member, None
        model = self.state.upstreams[chosen.member].settings.model
        message_id = f"msg_{self.facts.request_id}"
        if self.stream:
            payload = render.message_start(message_id, model) + render.text_events(
                chosen.text, chosen.usage)

            async def chunks() -> Any:
                yield payload

            reply = UpstreamReply(200, {"content-type": "text/event-stream"}, stream=chunks())
        else:
            reply = UpstreamReply(200, {"content-type": "application/json"},
                                  body=orjson.dumps(render.message_json(
                                      message_id, model, chosen.text, chosen.usage)))
        converted = self.dialect.from_anthropic(reply, self.body, model)
        # Its cost was booked when the member answered; the relay must not count it again.
        self.stage = None
        await self._relay(converted, plan.header_for(chosen.member, reason))

    async def dropped(self, source: str | None = None) -> None:
        """The answer to a request a person dropped from the dashboard (or to its retry,
        `source` given): an error whose route (the plan so far, or just the mode when none
        was made yet) ends in the reason `override:<source>,dropped`."""
        source = source or self.state.controls.dropped_by(self.facts.request_id) or "ui"
        message = DROPPED_MESSAGE.format(source=source)
        if not self.opened and self.client.stream_started():
            self.opened = True  # dropped mid-relay: end the stream the client already has
        plan = self.plan
        reason = RouteReason([ReasonPart("override", source), ReasonPart("dropped")])
        if plan is None:
            route = format_route(self.state.router.mode, None, "-", reason=reason)
        else:
            route = plan.header_for(self.served_by or None, reason)
        await self._fail(DROPPED_STATUS, message, route)

    def elapsed_ms(self) -> float:
        """Milliseconds since the request arrived."""
        return (time.monotonic() - self.started) * 1000

    def report(self, keep_body: bool) -> None:
        """Translation notes, the actor's tool calls, the cost, and ResponseFinished."""
        state, facts, outcome = self.state, self.facts, self.outcome
        sid, rid = facts.session_id, facts.request_id
        if self.reply is not None and self.reply.notes and self.served_by:
            upstream = state.upstreams[self.served_by]
            direction = f"{self.dialect.protocol}->{upstream.protocol}"
            for note in self.reply.notes:
                state.publish(TranslationNote(session_id=sid, request_id=rid,
                                              upstream_id=upstream.settings.id,
                                              direction=direction, note=note))
        for block in outcome.content:
            if block.get("type") == "tool_use":
                state.publish(ActorToolCalled(session_id=sid, request_id=rid,
                                              actor=self.served_by,
                                              name=str(block.get("name", "")),
                                              input=dict(block.get("input") or {}),
                                              tool_use_id=str(block.get("id", ""))))
        if outcome.usage and self.served_by and self.stage is not None:
            state.costs.record(sid, rid, self.served_by, self.stage, outcome.usage)
        spent = state.costs.request_total(rid, forget=True)
        if outcome.usage and self.served_by and outcome.status < 400:
            price_turn(state, facts, self.plan, self.served_by, outcome.usage, spent)
        state.publish(ResponseFinished(
            session_id=sid, request_id=rid, status=outcome.status, upstream_id=self.served_by,
            route=self.route, latency_ms=self.elapsed_ms(), input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens, stop_reason=outcome.stop_reason,
            error=outcome.error, content=outcome.content if keep_body else None))
