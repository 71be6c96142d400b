"""Translation between the OpenAI Responses wire and the other two (Anthropic Messages, Chat
Completions), through the neutral model: requests, complete answers, error bodies and byte
streams. Sans-IO, like `translate`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fusion_tui.protocols import anthropic_codec as ac
from fusion_tui.protocols import neutral as n
from fusion_tui.protocols import openai_codec as oc
from fusion_tui.protocols import openai_stream as os_
from fusion_tui.protocols import responses_stream as rs
from fusion_tui.protocols.sse import DONE, SSEEvent, SSEParser, event_object, strict_json_events
from fusion_tui.protocols.translate import error_to_anthropic, error_to_openai
from fusion_tui.protocols.translation import translate
from fusion_tui.protocols.wire import Wire

__all__ = [
    "anthropic_to_responses_request", "anthropic_to_responses_response",
    "anthropic_to_responses_stream", "error_to_anthropic", "error_to_openai",
    "error_to_responses", "openai_to_responses_request",
    "openai_to_responses_response", "openai_to_responses_stream",
    "responses_to_anthropic_request", "responses_to_anthropic_response",
    "responses_to_anthropic_stream", "responses_to_openai_request",
    "responses_to_openai_response", "responses_to_openai_stream",
]

error_to_responses = error_to_openai
"""Responses errors are OpenAI error objects."""


# ---- requests -----------------------------------------------------------------------------


def responses_to_anthropic_request(body: dict[str, Any], notes: n.Notes, *, model: str,
                                   default_max_tokens: int) -> dict[str, Any]:
    """A Responses body as an Anthropic Messages body for `model`."""
    return translate(body, Wire.RESPONSES, Wire.ANTHROPIC, notes, model=model,
                     default_max_tokens=default_max_tokens)


def responses_to_openai_request(body: dict[str, Any], notes: n.Notes, *, model: str,
                                token_field: oc.TokenField) -> dict[str, Any]:
    """A Responses body as a Chat Completions body for `model`."""
    return translate(body, Wire.RESPONSES, Wire.OPENAI, notes, model=model,
                     token_field=token_field)


def anthropic_to_responses_request(body: dict[str, Any], notes: n.Notes, *,
                                   model: str) -> dict[str, Any]:
    """An Anthropic Messages body as a Responses body for `model`."""
    return translate(body, Wire.ANTHROPIC, Wire.RESPONSES, notes, model=model)


def openai_to_responses_request(body: dict[str, Any], notes: n.Notes, *,
                                model: str) -> dict[str, Any]:
    """A Chat Completions body as a Responses body for `model`."""
    return translate(body, Wire.OPENAI, Wire.RESPONSES, notes, model=model)


# ---- complete answers ---------------------------------------------------------------------


def responses_to_anthropic_response(body: dict[str, Any], notes: n.Notes) -> dict[str, Any]:
    """A Responses answer as an Anthropic message."""
    return translate(body, Wire.RESPONSES, Wire.ANTHROPIC, notes, kind="response")


def responses_to_openai_response(body: dict[str, Any], notes: n.Notes) -> dict[str, Any]:
    """A Responses answer as a chat completion."""
    return translate(body, Wire.RESPONSES, Wire.OPENAI, notes, kind="response")


def anthropic_to_responses_response(body: dict[str, Any], notes: n.Notes) -> dict[str, Any]:
    """An Anthropic message as a Responses answer."""
    return translate(body, Wire.ANTHROPIC, Wire.RESPONSES, notes, kind="response")


def openai_to_responses_response(body: dict[str, Any], notes: n.Notes) -> dict[str, Any]:
    """A chat completion as a Responses answer."""
    return translate(body, Wire.OPENAI, Wire.RESPONSES, notes, kind="response")


# ---- streams ------------------------------------------------------------------------------

Decode = Callable[[SSEEvent], list[n.StreamEvent]]
Encode = Callable[[n.StreamEvent], bytes]


async def _pipe(chunks: AsyncIterator[bytes], decode: Decode, encode: Encode,
                end: Callable[[], list[n.StreamEvent]] | None = None) -> AsyncIterator[bytes]:
    parser = SSEParser()
    async for chunk in chunks:
        out = b"".join(encode(e) for event in parser.feed(chunk) for e in decode(event))
        if out:
            yield out
    tail = b"".join(encode(e) for e in (end() if end else []))
    if tail:
        yield tail


def _responses_decoder(notes: n.Notes) -> Decode:
    decoder = rs.StreamDecoder(notes)

    def decode(event: SSEEvent) -> list[n.StreamEvent]:
        if not event.data or event.data == DONE:
            return []
        payload = event_object(event)
        payload.setdefault("type", event.event)
        return decoder.feed(payload)
    return decode


def _anthropic_decoder() -> Decode:
    decoder = ac.StreamDecoder()

    def decode(event: SSEEvent) -> list[n.StreamEvent]:
        if not event.data:
            return []
        payload = event_object(event)
        return decoder.feed(event.event or str(payload.get("type", "")), payload)
    return decode


async def responses_to_anthropic_stream(chunks: AsyncIterator[bytes], notes: n.Notes
                                        ) -> AsyncIterator[bytes]:
    """Responses SSE bytes -> Anthropic SSE bytes (a cut stream ends without message_stop;
    response.failed becomes `event: error`)."""
    async for out in _pipe(chunks, _responses_decoder(notes), ac.StreamEncoder(notes).encode):
        yield out


async def responses_to_openai_stream(chunks: AsyncIterator[bytes], notes: n.Notes, *,
                                     include_usage: bool, model: str = ""
                                     ) -> AsyncIterator[bytes]:
    """Responses SSE bytes -> Chat Completions SSE bytes (`[DONE]` after completion only)."""
    encoder = os_.StreamEncoder(notes, include_usage, model)
    async for out in _pipe(chunks, _responses_decoder(notes), encoder.encode):
        yield out


async def anthropic_to_responses_stream(chunks: AsyncIterator[bytes], notes: n.Notes, *,
                                        model: str = "") -> AsyncIterator[bytes]:
    """Anthropic SSE bytes -> Responses SSE bytes."""
    encoder = rs.StreamEncoder(notes, model)
    async for out in _pipe(chunks, _anthropic_decoder(), encoder.encode):
        yield out


async def openai_to_responses_stream(chunks: AsyncIterator[bytes], notes: n.Notes, *,
                                     model: str = "") -> AsyncIterator[bytes]:
    """Chat Completions SSE bytes -> Responses SSE bytes."""
    decoder = os_.StreamDecoder(notes)
    encoder = rs.StreamEncoder(notes, model)
    async for out in _pipe(chunks, lambda event: decoder.feed(event.data), encoder.encode,
                           decoder.end):
        yield out


async def collect_stream(chunks: AsyncIterator[bytes], notes: n.Notes
                         ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Read a whole Responses stream: (the final response object, or None; the error if the
    stream failed). Output items are taken from `response.output_item.done` events when the
    final object has none (the ChatGPT Codex backend leaves `output` empty there)."""
    parser = SSEParser()
    items: dict[int, dict[str, Any]] = {}
    final: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    async for chunk in chunks:
        for event, payload in strict_json_events(parser, chunk):
            kind = payload.get("type", event.event)
            if kind == "response.output_item.done":
                items[int(payload.get("output_index") or len(items))] = payload.get("item") or {}
            elif kind in ("response.completed", "response.incomplete"):
                final = dict(payload.get("response") or {})
            elif kind == "response.failed":
                error = (payload.get("response") or {}).get("error") or {
                    "message": "response failed"}
            elif kind == "error":
                error = {"code": payload.get("code"), "message": payload.get("message")}
    if final is not None and not final.get("output") and items:
        final["output"] = [items[i] for i in sorted(items)]
    return final, error
