"""Relay a Responses reply to a Responses client: bytes pass through untouched while a parser
alongside collects what the events need. Into a stream the proxy opened itself (a council
sat first) the upstream's own `response.created`/`response.in_progress` are dropped and the
events renumbered, so the client sees one well-ordered stream."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fusion_tui.core.engine.outcome import Outcome
from fusion_tui.protocols.openai import error_body
from fusion_tui.protocols.responses import (
    OPENING_EVENTS,
    ResponsesAccumulator,
    event_frame,
    failed_event,
    response_outcome,
)
from fusion_tui.protocols.sse import SSEParser, json_events
from fusion_tui.server.relay import relay_events, relay_json_with
from fusion_tui.upstreams import UpstreamReply


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


class ResponsesStream:
    """Responses API events. Into a stream we opened ourselves, the upstream's own opening
    events are dropped (the client has ours) and the rest renumbered after them."""

    end = "response.completed"

    def __init__(self) -> None:
        self.parser = SSEParser()
        self.acc = ResponsesAccumulator()
        self.sequence = OPENING_EVENTS

    def take(self, chunk: bytes, reframe: bool) -> list[bytes]:
        """Accumulate the events (MalformedEvent for data that is not a JSON object);
        re-frame them when the stream is ours."""
        frames: list[bytes] = []
        for event, payload in json_events(self.parser, chunk):
            payload.setdefault("type", event.event)
            self.acc.add(payload)
            if reframe and payload["type"] not in ("response.created", "response.in_progress"):
                payload["sequence_number"] = self.sequence
                self.sequence += 1
                frames.append(event_frame(payload))
        return frames

    @property
    def finished(self) -> bool:
        """response.completed arrived."""
        return bool(self.acc.finished)

    def upstream_error(self) -> str | None:
        """The upstream's failure message, if it sent one."""
        error = self.acc.error
        return None if error is None else str(error.get("message") or error)

    def error_frame(self, status: int, message: str) -> bytes:
        """A `response.failed` event, numbered after what was sent."""
        return failed_event(status, message, sequence_number=self.sequence)

    def fill(self, outcome: Outcome) -> None:
        """Usage, stop reason and content."""
        _usage(outcome, self.acc.usage)
        outcome.stop_reason = self.acc.stop_reason()
        outcome.content = self.acc.content()


async def relay_stream(request: web.Request, reply: UpstreamReply, headers: dict[str, str],
                       started: float, opened: web.StreamResponse | None = None
                       ) -> tuple[web.StreamResponse, Outcome]:
    """Relay a Responses stream (see `relay.relay_events`)."""
    return await relay_events(request, reply, headers, started, opened, ResponsesStream())
