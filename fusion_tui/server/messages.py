"""POST /v1/messages and /v1/messages/count_tokens (the query string, e.g. ?beta=true, is
ignored: routing is on the path)."""

from __future__ import annotations

from aiohttp import web

from fusion_tui.core.engine import ANTHROPIC as ANTHROPIC_DIALECT
from fusion_tui.protocols.anthropic import (
    RequestError,
    check_count_tokens_request,
    check_messages_request,
)
from fusion_tui.server import relay
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.errors import anthropic_error
from fusion_tui.server.handler import ROUTE_HEADER, Surface, read_json, serve
from fusion_tui.upstreams import UpstreamError

__all__ = ["ROUTE_HEADER", "count_tokens", "messages", "read_json"]


def _error(status: int, message: str, exc: RequestError | None,
           headers: dict[str, str] | None) -> web.Response:
    return anthropic_error(status, message, headers=headers)


ANTHROPIC = Surface(ANTHROPIC_DIALECT, check_messages_request, _error, relay.relay_json,
                    relay.relay_stream)


async def messages(request: web.Request) -> web.StreamResponse:
    """Serve a Messages request through the chosen upstream."""
    return await serve(request, ANTHROPIC)


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
    response, _ = await relay.relay_json(reply, {ROUTE_HEADER: route.header})
    return response
