"""HTTP in, engine call, HTTP out: the part of serving a chat request that knows aiohttp.

A route handler reads and checks the body in its protocol (`Surface`), hands it with the
facts it gathered to the turn engine (`core.engine.serve_turn`), and implements the engine's
`Client` interface (`HttpClient`) by writing aiohttp responses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from fusion_tui.core.engine import Arrival, Dialect, Outcome, serve_turn
from fusion_tui.core.engine.turn import ROUTE_HEADER
from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.relay import OPENED_STREAM, open_stream
from fusion_tui.upstreams import UpstreamReply
from fusion_tui.upstreams.base import ClientBody

__all__ = ["ROUTE_HEADER", "HttpClient", "Surface", "client_name", "read_json", "serve"]

JsonRelay = Callable[[UpstreamReply, dict[str, str]], Awaitable[tuple[web.Response, Outcome]]]
StreamRelay = Callable[[web.Request, UpstreamReply, dict[str, str], float,
                        web.StreamResponse | None],
                       Awaitable[tuple[web.StreamResponse, Outcome]]]


@dataclass(frozen=True)
class Surface:
    """One client protocol over HTTP: how to check a body, answer an error, relay a reply,
    and the engine's view of the protocol (`dialect`)."""

    dialect: Dialect
    check: Callable[[Any], dict[str, Any]]
    error: Callable[[int, str, RequestError | None, dict[str, str] | None], web.Response]
    relay_json: JsonRelay
    relay_stream: StreamRelay


async def read_body(request: web.Request) -> tuple[Any, bytes]:
    """The request body parsed as JSON, and its bytes; RequestError (400) with the reason if
    it is not JSON."""
    if request.content.is_eof():
        # The whole body came with the headers (the usual case): reading it cannot wait, so
        # no timer is armed for it. `read` still enforces the size limit.
        raw = await request.read()
    else:
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
        return orjson.loads(raw), raw
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from exc


async def read_json(request: web.Request) -> Any:
    """The request body parsed as JSON; RequestError (400) with the reason if it is not."""
    return (await read_body(request))[0]


def client_name(request: web.Request) -> str:
    """The User-Agent's first word, shortened."""
    agent = request.headers.get("user-agent", "")
    return agent.split(" ")[0][:60] if agent else "unknown"


class HttpClient:
    """The engine's `Client` for one aiohttp request: keeps the response being built."""

    def __init__(self, request: web.Request, surface: Surface) -> None:
        self.request = request
        self.surface = surface
        self.response: web.StreamResponse | None = None
        self.opened: web.StreamResponse | None = None

    async def open(self, headers: dict[str, str], opening: bytes) -> None:
        """Send the SSE status line and headers, then the opening bytes."""
        self.opened = self.response = await open_stream(self.request, headers)
        await self.opened.write(opening)

    async def write(self, data: bytes) -> None:
        """Write into the started stream."""
        assert self.opened is not None
        await self.opened.write(data)

    async def end(self) -> None:
        """End the started stream."""
        assert self.opened is not None
        await self.opened.write_eof()

    async def relay(self, reply: UpstreamReply, headers: dict[str, str], stream: bool,
                    started: float) -> Outcome:
        """Relay into the opened stream, as a stream, or as one JSON body."""
        if self.opened is not None:
            self.response, outcome = await self.surface.relay_stream(
                self.request, reply, headers, started, self.opened)
        elif stream and reply.stream is not None:
            self.response, outcome = await self.surface.relay_stream(
                self.request, reply, headers, started, None)
        else:
            self.response, outcome = await self.surface.relay_json(reply, headers)
        return outcome

    def fail(self, status: int, message: str, headers: dict[str, str]) -> None:
        """An error body in the client's protocol."""
        self.response = self.surface.error(status, message, None, headers)

    def add_header(self, name: str, value: str) -> None:
        """A header on the body answer not sent yet."""
        if self.response is not None and not self.response.prepared:
            self.response.headers[name] = value

    def stream_started(self) -> bool:
        """Whether a stream (opened by us or by a relay) already reached the client."""
        relayed = self.request.get(OPENED_STREAM)
        if self.opened is None and relayed is not None and relayed.prepared:
            self.opened = self.response = relayed
        return self.opened is not None

    async def send(self) -> None:
        """Send a complete answer that aiohttp would only send after the handler returns, so
        the engine's reporting happens after the client has its answer instead of on its
        clock."""
        if self.response is not None and not self.response.prepared:
            await self.response.prepare(self.request)
            await self.response.write_eof()


async def serve(request: web.Request, surface: Surface) -> web.StreamResponse:
    """Serve one chat request of `surface`'s protocol through the turn engine."""
    started = time.monotonic()
    try:
        parsed, raw = await read_body(request)
        body = surface.check(parsed)
    except RequestError as exc:
        return surface.error(exc.status, str(exc), exc, None)
    if body is parsed:  # checked as sent: an upstream it passes through unchanged gets `raw`
        body = ClientBody(body, raw)
    arrival = Arrival(headers={k.lower(): v for k, v in request.headers.items()},
                      path=request.path, client=client_name(request),
                      body_bytes=request.content_length or 0, started=started)
    client = HttpClient(request, surface)
    await serve_turn(request.app[STATE], surface.dialect, body, arrival, client)
    assert client.response is not None, "the engine ended a turn without an answer"
    return client.response
