"""The flow every client protocol shares: parse, publish, route, call the upstream in the
client's protocol, relay, publish the outcome. Each protocol supplies a `Surface`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from fusion_tui.core.pipeline import RequestFacts, RequestRejected, council_for, plan_route
from fusion_tui.events import (
    ActorToolCalled,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    TranslationNote,
)
from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.routing import session_id_for
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.relay import Outcome
from fusion_tui.server.turns import Turn
from fusion_tui.upstreams import Upstream, UpstreamReply
from fusion_tui.upstreams.http import DEPTH_HEADER, OUTGOING_DEPTH

ROUTE_HEADER = "x-fusion-route"

JsonRelay = Callable[[UpstreamReply, dict[str, str]], Awaitable[tuple[web.Response, Outcome]]]
StreamRelay = Callable[[web.Request, UpstreamReply, dict[str, str], float,
                        web.StreamResponse | None],
                       Awaitable[tuple[web.StreamResponse, Outcome]]]


@dataclass(frozen=True)
class Surface:
    """One client protocol: how to check a body, answer an error, call an upstream, relay,
    and the pieces a council or panel turn needs in that protocol."""

    protocol: str
    check: Callable[[Any], dict[str, Any]]
    error: Callable[[int, str, RequestError | None, dict[str, str] | None], web.Response]
    call: Callable[[Upstream, dict[str, Any], Mapping[str, str]], Awaitable[UpstreamReply]]
    relay_json: JsonRelay
    relay_stream: StreamRelay
    anthropic_view: Callable[[dict[str, Any]], dict[str, Any]]
    """The request in Anthropic shape (what the gate and the council read)."""
    inject: Callable[[dict[str, Any], str], dict[str, Any]]
    """The request with a briefing added after its last cache breakpoint."""
    opening: Callable[[str, str], bytes]
    """First bytes of a stream opened before the answer exists (request id, model)."""
    keepalive: bytes
    """What keeps an opened stream alive while the council sits."""
    stream_error: Callable[[int, str], bytes]
    """An error inside an opened stream, in the protocol's own form."""
    from_anthropic: Callable[[UpstreamReply, dict[str, Any], str], UpstreamReply]
    """An Anthropic-wire reply the proxy produced, in this protocol (body, model)."""
    as_sent: Callable[[dict[str, Any]], dict[str, Any]] = dict
    """The checked body as the client sent it, for the recording (without what `check`
    added for the handler)."""


async def read_json(request: web.Request) -> Any:
    """The request body parsed as JSON; RequestError (400) with the reason if it is not."""
    limit = request.app[STATE].settings.server.body_timeout_s
    try:
        async with asyncio.timeout(limit):
            raw = await request.read()
    except TimeoutError as exc:
        raise RequestError(f"request body not received within {limit:g}s "
                           "(server.body_timeout_s)", status=408) from exc
    if not raw:
        raise RequestError("request body is empty; expected a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from exc


def client_name(request: web.Request) -> str:
    """The User-Agent's first word, shortened."""
    agent = request.headers.get("user-agent", "")
    return agent.split(" ")[0][:60] if agent else "unknown"


def _publish_notes(request: web.Request, surface: Surface, upstream: Upstream,
                   session_id: str, request_id: str, notes: list[str]) -> None:
    state = request.app[STATE]
    direction = f"{surface.protocol}->{upstream.protocol}"
    for note in notes:
        state.publish(TranslationNote(session_id=session_id, request_id=request_id,
                                      upstream_id=upstream.settings.id, direction=direction,
                                      note=note))


async def serve(request: web.Request, surface: Surface) -> web.StreamResponse:
    """Serve one chat request of `surface`'s protocol: plan its route (gate, steering,
    overrides), then answer directly, through a council, or through the panel."""
    state = request.app[STATE]
    started = time.monotonic()
    try:
        body = surface.check(await read_json(request))
    except RequestError as exc:
        return surface.error(exc.status, str(exc), exc, None)
    headers = {k.lower(): v for k, v in request.headers.items()}
    session_id = session_id_for(headers, body)
    request_id = state.new_request_id()
    keep_body = state.settings.sessions.record == "full"
    state.publish(RequestReceived(
        session_id=session_id, request_id=request_id, protocol=surface.protocol,
        path=request.path, model=str(body["model"]), stream=bool(body.get("stream")),
        client=client_name(request), tools=len(body.get("tools") or []),
        messages=len(body["messages"]), body_bytes=request.content_length or 0,
        body=surface.as_sent(body) if keep_body else None))
    facts = RequestFacts(session_id, request_id, bool(body.get("tools")), headers, body,
                         surface.anthropic_view,
                         {k: body[k] for k in ("fusion_route", "fusion_tier") if k in body})
    turn = Turn(request, surface, state, body, facts, started)
    OUTGOING_DEPTH.set(_depth(headers) + 1)
    state.controls.track(request_id, session_id)
    try:
        try:
            plan = await plan_route(state, facts)
        except RequestRejected as exc:
            turn.outcome = Outcome(exc.status, error=str(exc))
            return surface.error(exc.status, str(exc), None,
                                 {"x-fusion-request-id": request_id})
        council = council_for(state, facts, plan)
        if council.convene:
            response = await turn.council(plan, council)
        elif plan.panel and not facts.has_tools:
            response = await turn.panel(plan)
        else:
            response = await turn.direct(plan, extra_reason=council.reason or None)
        await _send_now(request, response)
        return response
    except (asyncio.CancelledError, ConnectionResetError):
        if state.controls.was_dropped(request_id):
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            return await turn.dropped()
        state.publish(RequestCancelled(session_id=session_id, request_id=request_id))
        turn.outcome = Outcome(499, error="client disconnected")
        raise
    except Exception as exc:  # the middleware answers 500; the recording must say so too
        turn.outcome = Outcome(500, error=f"fusion-tui internal error: {type(exc).__name__}")
        raise
    finally:
        state.controls.untrack(request_id)
        _report(request, turn, keep_body)


async def _send_now(request: web.Request, response: web.StreamResponse) -> None:
    """Send a complete answer that aiohttp would only send after the handler returns, so
    the reporting in `serve`'s `finally` (events, costs, the log line) happens after the
    client has its answer instead of on its clock."""
    if not response.prepared:
        await response.prepare(request)
        await response.write_eof()


def _depth(headers: Mapping[str, str]) -> int:
    """The request's x-fusion-depth (0 when absent or not a number: the router rejects a
    malformed one with a 400 anyway)."""
    try:
        return max(0, int(headers.get(DEPTH_HEADER, "0") or 0))
    except ValueError:
        return 0


def _report(request: web.Request, turn: Turn, keep_body: bool) -> None:
    """Translation notes, the actor's tool calls, the cost, and ResponseFinished."""
    state = request.app[STATE]
    facts, outcome = turn.facts, turn.outcome
    sid, rid = facts.session_id, facts.request_id
    if turn.reply is not None and turn.reply.notes and turn.served_by:
        _publish_notes(request, turn.surface, state.upstreams[turn.served_by],
                       facts.session_id, facts.request_id, turn.reply.notes)
    for block in outcome.content:
        if block.get("type") == "tool_use":
            state.publish(ActorToolCalled(session_id=sid, request_id=rid, actor=turn.served_by,
                                          name=str(block.get("name", "")),
                                          input=dict(block.get("input") or {}),
                                          tool_use_id=str(block.get("id", ""))))
    if outcome.usage and turn.served_by and turn.stage != "panel_answer":
        state.costs.record(facts.session_id, facts.request_id, turn.served_by, turn.stage,
                           outcome.usage)
    state.costs.request_total(facts.request_id, forget=True)
    state.publish(ResponseFinished(
        session_id=sid, request_id=rid, status=outcome.status, upstream_id=turn.served_by,
        route=turn.route,
        latency_ms=turn.elapsed_ms(), input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens, stop_reason=outcome.stop_reason,
        error=outcome.error, content=outcome.content if keep_body else None))
