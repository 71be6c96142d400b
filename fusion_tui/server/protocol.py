"""The HTTP connection layer under the application: what a client sees when its request
cannot even be parsed (a JSON error, not aiohttp's text/plain), how long a connection may
take to send a request head, and one log line (no traceback) for what clients are expected
to do wrong: malformed framing, bodies that cannot be decoded, hanging up mid-answer."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

log = logging.getLogger(__name__)

CLIENT_FAULTS = (HttpProcessingError, RequestPayloadError, ConnectionError)
"""Failures that are the client's (or its network's): logged as one line."""


def parse_error_body(status: int, message: str) -> bytes:
    """An error both SDK families read: Anthropic's `{"type": "error", "error": {...}}` with
    OpenAI's `param` and `code` added (which protocol a request speaks is unknown when its
    request line or headers could not be parsed)."""
    kind = "request_too_large" if status == 413 else "invalid_request_error"
    return orjson.dumps({"type": "error", "error": {
        "type": kind, "message": message, "param": None, "code": None}})


def one_line(exc: BaseException | None) -> str:
    """An exception as one short line."""
    if exc is None:
        return "unknown error"
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


class ProxyRequestHandler(RequestHandler):
    """aiohttp's per-connection protocol with JSON parse errors and quiet client faults."""

    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A request aiohttp could not parse (or a failure outside the application)."""
        if status >= 500 and not isinstance(exc, CLIENT_FAULTS):
            return super().handle_error(request, status, exc, message)
        log.warning("bad request from %s: %s", request.remote, one_line(exc))
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send the error")
        reason = " ".join((message or one_line(exc)).split())[:300]
        response = web.Response(status=status, body=parse_error_body(status, reason),
                                content_type="application/json")
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """Client faults in one line; anything else with its traceback."""
        exc = kwargs.get("exc_info")
        if isinstance(exc, CLIENT_FAULTS):
            log.warning("client fault: %s", one_line(exc))
            return
        super().log_exception(*args, **kwargs)


class _ProxyServer(web.Server):
    def __call__(self) -> RequestHandler:
        return ProxyRequestHandler(self, loop=self._loop, **self._kwargs)


class ProxyRunner(web.AppRunner):
    """`web.AppRunner` whose connections use `ProxyRequestHandler`."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Same class layout: only the protocol factory (__call__) differs.
        server.__class__ = _ProxyServer
        return server
