"""Relay an upstream's reply to the client: bytes pass through untouched, while a parser
alongside collects what the events need (content, usage, stop reason)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from aiohttp import web

from fusion_tui.core.engine.outcome import Outcome
from fusion_tui.protocols.anthropic import MessageAccumulator, error_body
from fusion_tui.protocols.errors import read_error
from fusion_tui.protocols.sse import MalformedEvent, SSEParser, encode_sse, json_events
from fusion_tui.routing.failover import close_reply
from fusion_tui.upstreams import ErrorKind, UpstreamError, UpstreamReply

ReadSuccess = Callable[[dict[str, Any], Outcome], None]
WrapError = Callable[[int, str], dict[str, Any]]


async def relay_json_with(reply: UpstreamReply, headers: dict[str, str], read: ReadSuccess,
                          wrap: WrapError) -> tuple[web.Response, Outcome]:
    """A complete (non-streamed) reply, success or error, passed through as received; `read`
    fills the outcome from a success body, `wrap` makes the protocol's error object for an
    error body that is not one (an HTML gateway page, say: the client still gets its
    protocol's shape, with the upstream's words kept)."""
    raw = reply.body or b""
    outcome = Outcome(reply.status)
    parsed = reply.parsed
    if parsed is None:
        try:
            parsed = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            parsed = None
    if reply.ok and isinstance(parsed, dict):
        read(parsed, outcome)
    elif not reply.ok:
        said = read_error(raw, reply.status, parsed)
        outcome.error = said.message
        if not said.in_shape:
            raw = orjson.dumps(wrap(reply.status, f"upstream error: {outcome.error}"))
    elif parsed is None:
        outcome.status = 502
        outcome.error = "upstream answered 2xx with a body that is not JSON"
        raw = orjson.dumps(wrap(502, outcome.error))
    out_headers = dict(headers)
    if "retry-after" in reply.headers:
        out_headers["retry-after"] = reply.headers["retry-after"]
    response = web.Response(status=outcome.status, body=raw, content_type="application/json",
                            headers=out_headers)
    return response, outcome


def _read_message(parsed: dict[str, Any], outcome: Outcome) -> None:
    usage = parsed.get("usage") or {}
    outcome.usage = dict(usage)
    outcome.input_tokens = int(usage.get("input_tokens") or 0)
    outcome.output_tokens = int(usage.get("output_tokens") or 0)
    outcome.stop_reason = parsed.get("stop_reason")
    outcome.content = list(parsed.get("content") or [])


async def relay_json(reply: UpstreamReply, headers: dict[str, str]) -> tuple[web.Response, Outcome]:
    """A complete Anthropic reply, success or error, passed through as received."""
    return await relay_json_with(reply, headers, _read_message,
                                 lambda status, message: error_body(status, message))


OPENED_STREAM = web.RequestKey("fusion_opened_stream", web.StreamResponse)
"""The SSE response `open_stream` started for a request, so a request cancelled mid-stream
(dropped by a person) can still end that stream with an error event."""


async def open_stream(request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    """Send the status line and headers of an SSE response (kept under `OPENED_STREAM`)."""
    response = web.StreamResponse(status=200, headers={
        **headers, "content-type": "text/event-stream", "cache-control": "no-cache"})
    request[OPENED_STREAM] = response
    await response.prepare(request)
    return response


def _reframed(name: str, payload: dict[str, Any], data: str,
              acc: MessageAccumulator) -> bytes | None:
    """An upstream event as it goes to a client whose stream we opened ourselves: its own
    message_start and pings are dropped (the client has ours), and its usage from the
    dropped message_start travels in message_delta instead."""
    if name in ("message_start", "ping"):
        return None
    if name == "message_delta":
        start_usage = (acc.message.get("usage") or {}) if acc.message else {}
        merged = {**{k: v for k, v in start_usage.items() if k != "output_tokens"},
                  **(payload.get("usage") or {})}
        return encode_sse(name, {**payload, "usage": merged})
    return encode_sse(name, data)


class StreamReader(Protocol):
    """What differs between protocols when a stream is relayed."""

    end: str
    """The protocol's final event, named in the error when a stream stops short of it."""

    def take(self, chunk: bytes, reframe: bool) -> list[bytes]:
        """Parse and accumulate `chunk`; with `reframe`, the frames to write into a stream we
        opened ourselves (else nothing: the chunk goes out as it came). MalformedEvent for an
        event whose data is not what the protocol allows (not a JSON object)."""
        ...

    @property
    def finished(self) -> bool:
        """The final event arrived."""
        ...

    def upstream_error(self) -> str | None:
        """The message of an error event the upstream sent (already relayed to the client)."""
        ...

    def error_frame(self, status: int, message: str) -> bytes:
        """The protocol's own mid-stream error."""
        ...

    def fill(self, outcome: Outcome) -> None:
        """Usage, stop reason and content of what was relayed."""
        ...


async def relay_events(request: web.Request, reply: UpstreamReply, headers: dict[str, str],
                       started: float, opened: web.StreamResponse | None,
                       reader: StreamReader) -> tuple[web.StreamResponse, Outcome]:
    """Stream an upstream's events to the client as they arrive, in any protocol. A failure
    after the first byte becomes the protocol's mid-stream error, never a fake normal finish:
    a cut or idle stream, or an event whose data is not JSON or has a field of the wrong type
    (nothing after it is relayed). Native upstreams hand over whole frames only, each event
    already checked (upstreams/checked.py), so a bad event never reaches the client and the
    error event starts on a frame boundary, even when the upstream's stream broke mid-event.
    With `opened` (a stream we already started, e.g. while a council sat) the events are
    re-framed into it; otherwise the bytes pass through untouched."""
    response = opened or await open_stream(request, headers)
    outcome = Outcome(200)
    failed_status = 502
    reframe = opened is not None
    assert reply.stream is not None
    try:
        async for chunk in reply.stream:
            if outcome.ttfb_ms is None:
                outcome.ttfb_ms = (time.monotonic() - started) * 1000
            if not reframe:
                await response.write(chunk)  # the client first; parsing can wait
            for frame in reader.take(chunk, reframe):
                await response.write(frame)
    except UpstreamError as exc:
        outcome.error = str(exc)
        if exc.kind == ErrorKind.OVERLOADED:
            failed_status = 529  # said as an overload: clients retry those
    except MalformedEvent as exc:
        # Nothing after the bad event is relayed: a broken stream never ends as a normal one.
        outcome.error = f"upstream sent a malformed event: {exc}"
    finally:
        await close_reply(reply)
    relayed_error = reader.upstream_error()
    if outcome.error is None and relayed_error is not None:
        outcome.error = relayed_error
    elif outcome.error is None and not reader.finished:
        outcome.error = f"upstream stream ended before {reader.end}"
    if outcome.error is not None:
        if relayed_error is None:
            await response.write(reader.error_frame(failed_status, outcome.error))
        outcome.status = 502
    reader.fill(outcome)
    await response.write_eof()
    return response, outcome


class MessagesStream:
    """Anthropic Messages events."""

    end = "message_stop"

    def __init__(self) -> None:
        self.parser = SSEParser()
        self.acc = MessageAccumulator()

    def take(self, chunk: bytes, reframe: bool) -> list[bytes]:
        """Accumulate the events; re-frame them when the stream is ours."""
        frames: list[bytes] = []
        for event, payload in json_events(self.parser, chunk):
            name = event.event or str(payload.get("type", ""))
            self.acc.add(name, payload)
            if reframe:
                framed = _reframed(name, payload, event.data, self.acc)
                if framed is not None:
                    frames.append(framed)
        return frames

    @property
    def finished(self) -> bool:
        """message_stop arrived."""
        return self.acc.finished

    def upstream_error(self) -> str | None:
        """The upstream's `event: error` message, if any."""
        error = self.acc.error
        return None if error is None else str(error.get("message", error))

    def error_frame(self, status: int, message: str) -> bytes:
        """`event: error`."""
        return encode_sse("error", error_body(status, message))

    def fill(self, outcome: Outcome) -> None:
        """Usage, stop reason and content blocks."""
        outcome.usage = dict(self.acc.usage)
        outcome.input_tokens = self.acc.input_tokens
        outcome.output_tokens = self.acc.output_tokens
        outcome.stop_reason = self.acc.stop_reason
        outcome.content = self.acc.content()


async def relay_stream(request: web.Request, reply: UpstreamReply, headers: dict[str, str],
                       started: float, opened: web.StreamResponse | None = None
                       ) -> tuple[web.StreamResponse, Outcome]:
    """Relay an Anthropic stream (see `relay_events`)."""
    return await relay_events(request, reply, headers, started, opened, MessagesStream())
