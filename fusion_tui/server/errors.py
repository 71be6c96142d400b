"""Error answers in the client's protocol, and the middleware that guarantees them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from fusion_tui.protocols import anthropic as anthropic_wire
from fusion_tui.protocols import openai as openai_wire
from fusion_tui.server.app_keys import STATE

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPENAI_PATH = "/v1/chat/completions"


def anthropic_error(status: int, message: str, *, error_type: str | None = None,
                    headers: dict[str, str] | None = None) -> web.Response:
    """A JSON error response in Anthropic's shape."""
    body = anthropic_wire.error_body(status, message, error_type)
    return web.Response(status=status, body=orjson.dumps(body),
                        content_type="application/json", headers=headers)


def openai_error(status: int, message: str, *, error_type: str | None = None,
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> web.Response:
    """A JSON error response in OpenAI's shape: {"error":{"message","type","param","code"}}."""
    body = openai_wire.error_body(status, message, error_type, param, code)
    return web.Response(status=status, body=orjson.dumps(body),
                        content_type="application/json", headers=headers)


def openai_flavoured(request: web.Request) -> bool:
    """Whether a request on a path both protocols share (/v1/models) comes from an OpenAI
    client: it has no `anthropic-version` header (every Anthropic SDK and Claude Code send
    one) and it authenticates with `Authorization: Bearer` or says it is an OpenAI SDK."""
    if "anthropic-version" in request.headers:
        return False
    auth = request.headers.get("authorization", "")
    agent = request.headers.get("user-agent", "")
    return auth.lower().startswith("bearer ") or agent.startswith(("OpenAI/", "AsyncOpenAI/"))


def speaks_openai(request: web.Request) -> bool:
    """Whether errors for this request take OpenAI's shape."""
    path = request.path
    if path.startswith((OPENAI_PATH, "/v1/completions", "/v1/responses")):
        return True
    return path.startswith("/v1/models") and openai_flavoured(request)


def error_for(request: web.Request, status: int, message: str,
              headers: dict[str, str] | None = None) -> web.Response:
    """An error in the shape the request's client expects."""
    if speaks_openai(request):
        return openai_error(status, message, headers=headers)
    return anthropic_error(status, message, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's plain-text HTTP errors (404, 405, 413, ...) into JSON errors in the
    client protocol's shape, so a client never gets HTML."""
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
        return error_for(request, exc.status, message)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except RequestPayloadError as exc:  # a body that cannot be read (a false content-encoding)
        reason = " ".join(str(exc).split())
        return error_for(request, 400, f"request body cannot be read: {reason}")
    except Exception as exc:
        # A bug of ours: still a JSON error in the client's shape that says what broke.
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return error_for(request, 500, f"fusion-tui internal error: {type(exc).__name__}: "
                                       f"{exc}")
