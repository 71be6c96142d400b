"""Relay a Responses reply to a Responses client: bytes pass through untouched while a parser
alongside collects what the events need. Into a stream the proxy opened itself (a council
sat first) the upstream's own `response.created`/`response.in_progress` are dropped and the
events renumbered, so the client sees one well-ordered stream."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from fusion_tui.protocols.openai import error_body
from fusion_tui.protocols.responses import (
    ResponsesAccumulator,
    event_frame,
    failed_event,
    response_outcome,
)
from fusion_tui.protocols.sse import SSEParser
from fusion_tui.server.relay import Outcome, open_stream, relay_json_with
from fusion_tui.upstreams import UpstreamError, UpstreamReply

OPENING_EVENTS = 2
"""The events the proxy's own opening holds (created, in_progress)."""


def _usage(outcome: Outcome, usage: dict[str, Any]) -> None:
    total = usage.get("input_tokens")
    details = usage.get("input_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    outcome.input_tokens = max(0, int(total if isinstance(total, int) else 0) - int(cached or 0))
    output = usage.get("output_tokens")
    outcome.output_tokens = int(output if isinstance(output, int) else 0)
    outcome.usage = {"input_tokens": outcome.input_tokens,
                     "output_tokens": outcome.output_tokens,
                     "cache_read_input_tokens": int(cached or 0)}


def _read_response(parsed: dict[str, Any], outcome: Outcome) -> None:
    _usage(outcome, parsed.get("usage") or {})
    outcome.content, outcome.stop_reason = response_outcome(parsed)


async def relay_json(reply: UpstreamReply, headers: dict[str, str]) -> tuple[web.Response, Outcome]:
    """A complete reply, success or error, passed through as received."""
    return await relay_json_with(reply, headers, _read_response,
                                 lambda status, message: error_body(status, message))


async def relay_stream(request: web.Request, reply: UpstreamReply, headers: dict[str, str],
                       started: float, opened: web.StreamResponse | None = None
                       ) -> tuple[web.StreamResponse, Outcome]:
    """Stream events to the client as they arrive. A failure after the first byte (a broken
    or cut stream) becomes a `response.failed` event, never a fake completion."""
    response = opened or await open_stream(request, headers)
    parser = SSEParser()
    acc = ResponsesAccumulator()
    outcome = Outcome(200)
    sequence = OPENING_EVENTS
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
                payload.setdefault("type", event.event)
                acc.add(payload)
                if opened is not None and payload["type"] not in ("response.created",
                                                                  "response.in_progress"):
                    payload["sequence_number"] = sequence
                    sequence += 1
                    await response.write(event_frame(payload))
    except UpstreamError as exc:
        outcome.error = str(exc)
    finally:
        await reply.close()
    if outcome.error is None and acc.error is not None:
        outcome.error = str(acc.error.get("message") or acc.error)
    elif outcome.error is None and not acc.finished:
        outcome.error = "upstream stream ended before response.completed"
    if outcome.error is not None and acc.error is None:
        await response.write(failed_event(502, outcome.error, sequence_number=sequence))
    if outcome.error is not None:
        outcome.status = 502
    _usage(outcome, acc.usage)
    outcome.stop_reason = acc.stop_reason()
    outcome.content = acc.content()
    await response.write_eof()
    return response, outcome
