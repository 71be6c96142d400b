"""POST /v1/messages and /v1/messages/count_tokens (the query string, e.g. ?beta=true, is
ignored: routing is on the path)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web

from fusion_tui.events import RequestCancelled, RequestReceived, ResponseFinished, RouteChosen
from fusion_tui.protocols.anthropic import (
    RequestError,
    check_count_tokens_request,
    check_messages_request,
)
from fusion_tui.routing import session_id_for
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.errors import anthropic_error
from fusion_tui.server.relay import Outcome, relay_json, relay_stream
from fusion_tui.upstreams import UpstreamError

ROUTE_HEADER = "x-fusion-route"


async def read_json(request: web.Request) -> Any:
    """The request body parsed as JSON; RequestError (400) with the reason if it is not."""
    raw = await request.read()
    if not raw:
        raise RequestError("request body is empty; expected a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from exc


def _client_name(request: web.Request) -> str:
    agent = request.headers.get("user-agent", "")
    return agent.split(" ")[0][:60] if agent else "unknown"


async def messages(request: web.Request) -> web.StreamResponse:
    """Serve a Messages request through the chosen upstream."""
    state = request.app[STATE]
    started = time.monotonic()
    try:
        body = check_messages_request(await read_json(request))
    except RequestError as exc:
        return anthropic_error(exc.status, str(exc))
    headers = {k.lower(): v for k, v in request.headers.items()}
    session_id = session_id_for(headers, body)
    request_id = state.new_request_id()
    stream = bool(body.get("stream"))
    keep_body = state.settings.sessions.record == "full"
    state.publish(RequestReceived(
        session_id=session_id, request_id=request_id, protocol="anthropic", path=request.path,
        model=str(body["model"]), stream=stream, client=_client_name(request),
        tools=len(body.get("tools") or []), messages=len(body["messages"]),
        body_bytes=request.content_length or 0, body=body if keep_body else None))

    route = state.router.choose()
    state.publish(RouteChosen(session_id=session_id, request_id=request_id, mode=route.mode,
                              tier=route.tier or "-", upstream_id=route.upstream_id,
                              route=route.header))
    out_headers = {ROUTE_HEADER: route.header, "x-fusion-request-id": request_id}
    upstream = state.upstreams[route.upstream_id]
    outcome = Outcome(0)
    response: web.StreamResponse
    try:
        try:
            reply = await upstream.messages(body, headers)
        except UpstreamError as exc:
            status = exc.status or (504 if "no answer within" in str(exc) else 502)
            outcome = Outcome(status, error=str(exc))
            return anthropic_error(status, f"upstream {route.upstream_id} failed: {exc}",
                                   headers=out_headers)
        if stream and reply.stream is not None:
            response, outcome = await relay_stream(request, reply, out_headers, started)
        else:
            response, outcome = await relay_json(reply, out_headers)
        return response
    except (asyncio.CancelledError, ConnectionResetError):
        state.publish(RequestCancelled(session_id=session_id, request_id=request_id))
        outcome = Outcome(499, error="client disconnected")
        raise
    finally:
        state.publish(ResponseFinished(
            session_id=session_id, request_id=request_id, status=outcome.status,
            upstream_id=route.upstream_id, route=route.header,
            latency_ms=(time.monotonic() - started) * 1000,
            input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
            stop_reason=outcome.stop_reason, error=outcome.error,
            content=outcome.content if keep_body else None))


async def count_tokens(request: web.Request) -> web.StreamResponse:
    """Count tokens with the actor upstream."""
    state = request.app[STATE]
    try:
        body = check_count_tokens_request(await read_json(request))
    except RequestError as exc:
        return anthropic_error(exc.status, str(exc))
    route = state.router.choose()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        reply = await state.upstreams[route.upstream_id].count_tokens(body, headers)
    except UpstreamError as exc:
        return anthropic_error(exc.status or 502, f"upstream {route.upstream_id} failed: {exc}",
                               headers={ROUTE_HEADER: route.header})
    response, _ = await relay_json(reply, {ROUTE_HEADER: route.header})
    return response
