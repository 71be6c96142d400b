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

from fusion_tui.events import (
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
    TranslationNote,
)
from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.routing import session_id_for
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.relay import Outcome
from fusion_tui.upstreams import Upstream, UpstreamError, UpstreamReply

ROUTE_HEADER = "x-fusion-route"

JsonRelay = Callable[[UpstreamReply, dict[str, str]], Awaitable[tuple[web.Response, Outcome]]]
StreamRelay = Callable[[web.Request, UpstreamReply, dict[str, str], float],
                       Awaitable[tuple[web.StreamResponse, Outcome]]]


@dataclass(frozen=True)
class Surface:
    """One client protocol: how to check a body, answer an error, call an upstream, relay."""

    protocol: str
    check: Callable[[Any], dict[str, Any]]
    error: Callable[[int, str, RequestError | None, dict[str, str] | None], web.Response]
    call: Callable[[Upstream, dict[str, Any], Mapping[str, str]], Awaitable[UpstreamReply]]
    relay_json: JsonRelay
    relay_stream: StreamRelay


async def read_json(request: web.Request) -> Any:
    """The request body parsed as JSON; RequestError (400) with the reason if it is not."""
    raw = await request.read()
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
    """Serve one chat request of `surface`'s protocol through the chosen upstream."""
    state = request.app[STATE]
    started = time.monotonic()
    try:
        body = surface.check(await read_json(request))
    except RequestError as exc:
        return surface.error(exc.status, str(exc), exc, None)
    headers = {k.lower(): v for k, v in request.headers.items()}
    session_id = session_id_for(headers, body)
    request_id = state.new_request_id()
    stream = bool(body.get("stream"))
    keep_body = state.settings.sessions.record == "full"
    state.publish(RequestReceived(
        session_id=session_id, request_id=request_id, protocol=surface.protocol,
        path=request.path, model=str(body["model"]), stream=stream,
        client=client_name(request), tools=len(body.get("tools") or []),
        messages=len(body["messages"]), body_bytes=request.content_length or 0,
        body=body if keep_body else None))

    route = state.router.choose()
    state.publish(RouteChosen(session_id=session_id, request_id=request_id, mode=route.mode,
                              tier=route.tier or "-", upstream_id=route.upstream_id,
                              route=route.header))
    out_headers = {ROUTE_HEADER: route.header, "x-fusion-request-id": request_id}
    upstream = state.upstreams[route.upstream_id]
    outcome = Outcome(0)
    reply: UpstreamReply | None = None
    response: web.StreamResponse
    try:
        try:
            reply = await surface.call(upstream, body, headers)
        except UpstreamError as exc:
            status = exc.status or (504 if "no answer within" in str(exc) else 502)
            outcome = Outcome(status, error=str(exc))
            return surface.error(status, f"upstream {route.upstream_id} failed: {exc}", None,
                                 out_headers)
        if stream and reply.stream is not None:
            response, outcome = await surface.relay_stream(request, reply, out_headers,
                                                           started)
        else:
            response, outcome = await surface.relay_json(reply, out_headers)
        return response
    except (asyncio.CancelledError, ConnectionResetError):
        state.publish(RequestCancelled(session_id=session_id, request_id=request_id))
        outcome = Outcome(499, error="client disconnected")
        raise
    finally:
        if reply is not None and reply.notes:
            _publish_notes(request, surface, upstream, session_id, request_id, reply.notes)
        state.publish(ResponseFinished(
            session_id=session_id, request_id=request_id, status=outcome.status,
            upstream_id=route.upstream_id, route=route.header,
            latency_ms=(time.monotonic() - started) * 1000,
            input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
            stop_reason=outcome.stop_reason, error=outcome.error,
            content=outcome.content if keep_body else None))
