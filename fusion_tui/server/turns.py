"""One request's turn after routing: straight to an upstream (with failover), through a
council (advisors, judge, then the actor with the briefing), or through the panel.

While a council or panel sits, a streaming client already has its response open: the
protocol's opening bytes, then keep-alives, so no client times out and the first byte is
quick. The route header goes out with the opening, so the council's outcome (and the final
route) is also written into the stream as an SSE comment line, said in the events and on
screen. A client that hangs up cancels every advisor, the judge and the actor at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web

from fusion_tui.core.pipeline import CouncilCall, RequestFacts, call_upstreams, route_header
from fusion_tui.core.state import ProxyState
from fusion_tui.council import render
from fusion_tui.council.calls import TextResult, stream_text
from fusion_tui.council.orchestrator import Council, CouncilContext
from fusion_tui.council.panel import PanelResult, gather_answers, judge_request, pick_ranked
from fusion_tui.events.council import ActorStarted
from fusion_tui.routing.explain import format_route
from fusion_tui.routing.router import RoutePlan
from fusion_tui.server.relay import OPENED_STREAM, Outcome, open_stream
from fusion_tui.upstreams import UpstreamError, UpstreamReply

if TYPE_CHECKING:
    from fusion_tui.server.handler import Surface

ROUTE_HEADER = "x-fusion-route"
COST_HEADER = "x-fusion-cost"
T = TypeVar("T")


def error_message(raw: bytes) -> str:
    """The message of an error body in either protocol's shape, else its first bytes."""
    try:
        error = orjson.loads(raw).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return raw[:300].decode("utf-8", "replace") or "no answer body"


def sse_comment(text: str) -> bytes:
    """An SSE comment line: clients ignore it, the wire (and curl) shows it."""
    return b": " + text.replace("\n", " ").encode() + b"\n\n"


@dataclass
class Turn:
    """Serves one routed request and remembers what the handler must report."""

    request: web.Request
    surface: Surface
    state: ProxyState
    body: dict[str, Any]
    facts: RequestFacts
    started: float
    outcome: Outcome = field(default_factory=lambda: Outcome(0))
    served_by: str = ""
    route: str = ""
    stage: str = "actor"
    reply: UpstreamReply | None = None
    opened: web.StreamResponse | None = None
    plan: RoutePlan | None = None

    @property
    def stream(self) -> bool:
        """The client asked for a stream."""
        return bool(self.body.get("stream"))

    def _headers(self, route: str) -> dict[str, str]:
        self.route = route
        return {ROUTE_HEADER: route, "x-fusion-request-id": self.facts.request_id}

    async def _open(self, route: str) -> None:
        if self.stream:
            self.opened = await open_stream(self.request, self._headers(route))
            await self.opened.write(self.surface.opening(self.facts.request_id,
                                                         str(self.body.get("model", ""))))

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
                if self.opened is not None:
                    await self.opened.write(self.surface.keepalive)
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _fail(self, status: int, message: str, route: str) -> web.StreamResponse:
        """An error before any answer: a JSON error, or an error inside the opened stream."""
        self.outcome = Outcome(status, error=message)
        if self.opened is None:
            return self.surface.error(status, message, None, self._headers(route))
        await self.opened.write(sse_comment(f"{ROUTE_HEADER}: {route}"))
        await self.opened.write(self.surface.stream_error(status, message))
        await self.opened.write_eof()
        return self.opened

    async def _relay(self, reply: UpstreamReply, route: str) -> web.StreamResponse:
        self.reply = reply
        headers = self._headers(route)
        if self.opened is not None:
            if not reply.ok or reply.stream is None:
                message = error_message(reply.body or b"")
                await reply.close()
                return await self._fail(reply.status if not reply.ok else 502,
                                        f"upstream {self.served_by}: {message}", route)
            await self.opened.write(sse_comment(f"{ROUTE_HEADER}: {route}"))
            response, self.outcome = await self.surface.relay_stream(
                self.request, reply, headers, self.started, self.opened)
            return response
        if self.stream and reply.stream is not None:
            response, self.outcome = await self.surface.relay_stream(
                self.request, reply, headers, self.started, None)
            return response
        json_response, self.outcome = await self.surface.relay_json(reply, headers)
        spent = self.cost_so_far()
        json_response.headers[COST_HEADER] = (f"{spent:.6f}" if self.cost_known()
                                              else "unknown")
        return json_response

    def cost_so_far(self) -> float:
        """Dollars spent on this request, including the reply being relayed."""
        spent = self.state.costs.request_total(self.facts.request_id)
        if self.outcome.usage and self.served_by:
            from fusion_tui.council.costs import cost_of

            price = self.state.costs.prices.get(self.served_by)
            spent += cost_of(self.outcome.usage, price)
        return spent

    def cost_known(self) -> bool:
        """False when a call of this request, the reply included, had no price."""
        served = self.state.costs.prices.get(self.served_by) if self.served_by else None
        return (self.state.costs.request_priced(self.facts.request_id)
                and not (self.outcome.usage and self.served_by and served is None))

    async def direct(self, plan: RoutePlan, body: dict[str, Any] | None = None,
                     extra_reason: str | None = None) -> web.StreamResponse:
        """Call the plan's candidates with failover and relay the answer."""
        self.plan = plan
        sent = self.body if body is None else body
        headers = self.facts.headers
        result = await call_upstreams(self.state, self.facts, plan,
                                      lambda upstream: self.surface.call(upstream, sent, headers))
        self.served_by = result.upstream_id
        route = route_header(plan, result, extra_reason)
        if result.reply is None:
            error = result.error
            status = (error.status if error and error.status else
                      504 if error and "no answer within" in str(error) else 502)
            tried = ", ".join(a.upstream_id for a in result.attempts)
            return await self._fail(status, f"every upstream failed (tried {tried}): {error}",
                                    route)
        return await self._relay(result.reply, route)

    async def council(self, plan: RoutePlan, call: CouncilCall) -> web.StreamResponse:
        """Advisors deliberate, the judge briefs, the actor acts with the real tools."""
        self.plan = plan
        plan.council = call.advisors
        plan.actor = plan.upstream_id
        await self._open(plan.header_for(None, "council"))
        cfg = self.state.settings.council.model_copy(
            update={"hold": self.state.controls.hold_mode})
        ctx = CouncilContext(self.facts.session_id, self.facts.request_id,
                             self.state.upstreams, cfg, self.state.publish, self.state.costs,
                             self.state.hold_desk, self.facts.headers, plan.tier)
        outcome = await self._sitting(Council(ctx).convene(
            self.facts.gate_body, plan.upstream_id, call.advisors, call.judge))
        body = self.surface.inject(self.body, outcome.briefing) if outcome.briefing else None
        self.state.publish(ActorStarted(session_id=self.facts.session_id,
                                        request_id=self.facts.request_id,
                                        actor=plan.upstream_id, briefed=body is not None))
        return await self.direct(plan, body, outcome.reason)

    async def panel(self, plan: RoutePlan) -> web.StreamResponse:
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
            return await self._fail(502, f"every panel member failed: {errors}",
                                    plan.header_for(plan.panel[0], "panel_failed"))
        judges = [j for j in self.state.settings.pools.judge if self.state.breakers.allows(j)]
        if settings.method == "synthesize" and judges:
            return await self._synthesize(plan, view, result, judges[0])
        return await self._ranked(plan, view, result, judges[0] if judges else None)

    async def _synthesize(self, plan: RoutePlan, view: dict[str, Any], result: PanelResult,
                          judge: str) -> web.StreamResponse:
        upstream = self.state.upstreams[judge]
        request = judge_request(view, result, upstream.settings.model, "synthesize")
        request["stream"] = self.stream
        self.stage, self.served_by = "judge", judge
        try:
            reply = await self._sitting(upstream.messages(request, self.facts.headers))
        except UpstreamError as exc:
            return await self._ranked(plan, view, result, None, f"judge_failed:{exc.status}")
        if not reply.ok:
            await reply.close()
            return await self._ranked(plan, view, result, None, f"judge_failed:{reply.status}")
        converted = self.surface.from_anthropic(reply, self.body, upstream.settings.model)
        return await self._relay(converted, plan.header_for(judge, "panel:synthesize"))

    async def _ranked(self, plan: RoutePlan, view: dict[str, Any], result: PanelResult,
                      judge: str | None, note: str | None = None) -> web.StreamResponse:
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
                                  "rank"), self.facts.headers, verdict))
                chosen, matched = pick_ranked(result, verdict.text)
                if not matched:
                    reason = "panel:rank_unparsed_first_answer"
            except UpstreamError as exc:
                reason = f"panel:judge_failed_first_answer:{exc.status}"
            finally:
                if verdict.usage:
                    self.state.costs.record(self.facts.session_id, self.facts.request_id,
                                            judge, "judge", verdict.usage)
        elif note is None:
            reason = "panel:no_judge_first_answer"
        self.served_by, self.stage = chosen.member, "panel_answer"
        model = self.state.upstreams[chosen.member].settings.model
        message_id = f"msg_{self.facts.request_id}"
        if self.stream:
            payload = render.message_start(message_id, model) + render.text_events(
                chosen.text, chosen.usage)

            async def chunks() -> Any:
                yield payload

            reply = UpstreamReply(200, {"content-type": "text/event-stream"}, stream=chunks())
        else:
            import orjson

            reply = UpstreamReply(200, {"content-type": "application/json"}, body=orjson.dumps(
                render.message_json(message_id, model, chosen.text, chosen.usage)))
        converted = self.surface.from_anthropic(reply, self.body, model)
        # Its cost was booked when the member answered; the relay must not count it again.
        self.stage = "panel_answer"
        return await self._relay(converted, plan.header_for(chosen.member, reason))

    async def dropped(self) -> web.StreamResponse:
        """The answer to a request a person dropped from the dashboard: an error whose route
        (the plan so far, or just the mode when none was made yet) ends in the reason
        `override:<source>,dropped`."""
        source = self.state.controls.dropped_by(self.facts.request_id) or "ui"
        message = f"request dropped by the operator (fusion-tui, {source})"
        relayed = self.request.get(OPENED_STREAM)
        if self.opened is None and relayed is not None and relayed.prepared:
            self.opened = relayed  # dropped mid-relay: end the stream the client already has
        plan = self.plan
        if plan is None:
            route = format_route(self.state.router.mode, None, "-",
                                 reason=f"override:{source},dropped")
        else:
            said = plan.reason.split(",")
            extra = ",".join(n for n in (f"override:{source}", "dropped") if n not in said)
            route = plan.header_for(self.served_by or None, extra)
        return await self._fail(500, message, route)

    def elapsed_ms(self) -> float:
        """Milliseconds since the request arrived."""
        return (time.monotonic() - self.started) * 1000
