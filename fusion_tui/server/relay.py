"""Relay an upstream's reply to the client: bytes pass through untouched, while a parser
alongside collects what the events need (content, usage, stop reason)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from fusion_tui.protocols.anthropic import MessageAccumulator, error_body, error_type_for
from fusion_tui.protocols.sse import SSEParser, encode_sse
from fusion_tui.upstreams import UpstreamError, UpstreamReply


@dataclass
class Outcome:
    """What the client received."""

    status: int
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    error: str | None = None
    content: list[dict[str, Any]] = field(default_factory=list)
    ttfb_ms: float | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    """Usage in Anthropic's field names (cache tokens included), for the cost book."""


ReadSuccess = Callable[[dict[str, Any], Outcome], None]
WrapError = Callable[[int, str], dict[str, Any]]


def upstream_error_text(parsed: Any, raw: bytes, status: int) -> tuple[str, bool]:
    """(the upstream's error message, whether its body already is a protocol error object).
    Anthropic and OpenAI both put `error.message`; the ChatGPT backend says `detail`."""
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"]), True
    detail = parsed.get("detail") if isinstance(parsed, dict) else None
    if detail:
        return str(detail), False
    return raw[:300].decode("utf-8", "replace") or f"HTTP {status}", False


async def relay_json_with(reply: UpstreamReply, headers: dict[str, str], read: ReadSuccess,
                          wrap: WrapError) -> tuple[web.Response, Outcome]:
    """A complete (non-streamed) reply, success or error, passed through as received; `read`
    fills the outcome from a success body, `wrap` makes the protocol's error object for an
    error body that is not one (an HTML gateway page, say: the client still gets its
    protocol's shape, with the upstream's words kept)."""
    raw = reply.body or b""
    outcome = Outcome(reply.status)
    try:
        parsed = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        parsed = None
    if reply.ok and isinstance(parsed, dict):
        read(parsed, outcome)
    elif not reply.ok:
        outcome.error, in_shape = upstream_error_text(parsed, raw, reply.status)
        if not in_shape:
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


async def open_stream(request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    """Send the status line and headers of an SSE response."""
    response = web.StreamResponse(status=200, headers={
        **headers, "content-type": "text/event-stream", "cache-control": "no-cache"})
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


async def relay_stream(request: web.Request, reply: UpstreamReply, headers: dict[str, str],
                       started: float, opened: web.StreamResponse | None = None
                       ) -> tuple[web.StreamResponse, Outcome]:
    """Stream SSE bytes to the client as they arrive. A failure after the first byte becomes
    an `event: error` in the stream, never a fake normal finish. With `opened` (a stream we
    already started, e.g. while a council sat) the upstream's events are re-framed into it."""
    response = opened or await open_stream(request, headers)
    parser = SSEParser()
    acc = MessageAccumulator()
    outcome = Outcome(200)
    assert reply.stream is not None
    try:
        async for chunk in reply.stream:
            if outcome.ttfb_ms is None:
                outcome.ttfb_ms = (time.monotonic() - started) * 1000
            if opened is None:
                await response.write(chunk)
            for event in parser.feed(chunk):
                try:
                    payload = event.json()
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(payload, dict):
                    continue
                name = event.event or str(payload.get("type", ""))
                acc.add(name, payload)
                if opened is not None:
                    framed = _reframed(name, payload, event.data, acc)
                    if framed is not None:
                        await response.write(framed)
    except UpstreamError as exc:
        outcome.error = str(exc)
    finally:
        await reply.close()
    if outcome.error is None and acc.error is not None:
        outcome.error = str(acc.error.get("message", acc.error))
    elif outcome.error is None and not acc.finished:
        outcome.error = "upstream stream ended before message_stop"
    if outcome.error is not None and acc.error is None:
        status = 529 if "overloaded" in outcome.error else 502
        await response.write(encode_sse("error", error_body(
            status, outcome.error, error_type_for(status) if status != 502 else "api_error")))
    if outcome.error is not None:
        outcome.status = 502
    outcome.usage = dict(acc.usage)
    outcome.input_tokens = acc.input_tokens
    outcome.output_tokens = acc.output_tokens
    outcome.stop_reason = acc.stop_reason
    outcome.content = acc.content()
    await response.write_eof()
    return response, outcome
