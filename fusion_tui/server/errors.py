"""Error answers in the client's protocol, and the middleware that guarantees them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from fusion_tui.protocols.anthropic import error_body
from fusion_tui.server.app_keys import STATE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def anthropic_error(status: int, message: str, *, error_type: str | None = None,
                    headers: dict[str, str] | None = None) -> web.Response:
    """A JSON error response in Anthropic's shape."""
    return web.Response(status=status, body=orjson.dumps(error_body(status, message, error_type)),
                        content_type="application/json", headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's plain-text HTTP errors (404, 405, 413, ...) and unexpected exceptions
    into JSON errors in the protocol's shape, so a client never gets HTML or a bare 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason
        if exc.status == 404:
            message = f"no route for {request.method} {request.path}"
        if exc.status == 405:
            message = f"method {request.method} not allowed on {request.path}"
        if exc.status == 413:
            limit = request.app[STATE].settings.server.max_body_mb
            message = f"request body too large (limit {limit:g} MiB)"
        return anthropic_error(exc.status, message)
