"""Translation between the Anthropic Messages and OpenAI Chat Completions wires, through the
neutral model: requests, complete responses, error bodies and byte streams. Sans-IO: the
stream functions take and give async iterators of bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fusion_tui.protocols import anthropic_codec as ac
from fusion_tui.protocols import neutral as n
from fusion_tui.protocols import openai_codec as oc
from fusion_tui.protocols import openai_stream as os_
from fusion_tui.protocols.errors import error_bytes
from fusion_tui.protocols.sse import SSEParser, strict_json_events
from fusion_tui.protocols.translation import translate
from fusion_tui.protocols.wire import Wire


def anthropic_to_openai_request(body: dict[str, Any], notes: n.Notes, *, model: str,
                                token_field: oc.TokenField) -> dict[str, Any]:
    """An Anthropic Messages body as a Chat Completions body for `model`."""
    return translate(body, Wire.ANTHROPIC, Wire.OPENAI, notes, model=model,
                     token_field=token_field)


def openai_to_anthropic_request(body: dict[str, Any], notes: n.Notes, *, model: str,
                                default_max_tokens: int) -> dict[str, Any]:
    """A Chat Completions body as an Anthropic Messages body for `model`."""
    return translate(body, Wire.OPENAI, Wire.ANTHROPIC, notes, model=model,
                     default_max_tokens=default_max_tokens)


def openai_to_anthropic_response(body: dict[str, Any], notes: n.Notes) -> dict[str, Any]:
    """A chat completion as an Anthropic message."""
    return translate(body, Wire.OPENAI, Wire.ANTHROPIC, notes, kind="response")


def anthropic_to_openai_response(body: dict[str, Any], notes: n.Notes) -> dict[str, Any]:
    """An Anthropic message as a chat completion."""
    return translate(body, Wire.ANTHROPIC, Wire.OPENAI, notes, kind="response")


def error_to_anthropic(status: int, raw: bytes) -> bytes:
    """Any upstream error body as an Anthropic error body, the message kept."""
    return error_bytes(Wire.ANTHROPIC, status, raw)


def error_to_openai(status: int, raw: bytes) -> bytes:
    """Any upstream error body as an OpenAI error body, the message kept."""
    return error_bytes(Wire.OPENAI, status, raw)


async def openai_to_anthropic_stream(chunks: AsyncIterator[bytes], notes: n.Notes
                                     ) -> AsyncIterator[bytes]:
    """Chat Completions SSE bytes -> Anthropic SSE bytes. A cut stream ends without
    `message_stop`; an error chunk becomes `event: error`."""
    parser = SSEParser()
    decoder = os_.StreamDecoder(notes)
    encoder = ac.StreamEncoder(notes)
    async for chunk in chunks:
        out = b"".join(encoder.encode(e) for ev in parser.feed(chunk)
                       for e in decoder.feed(ev.data))
        if out:
            yield out
    tail = b"".join(encoder.encode(e) for e in decoder.end())
    if tail:
        yield tail


async def anthropic_to_openai_stream(chunks: AsyncIterator[bytes], notes: n.Notes, *,
                                     include_usage: bool, model: str = ""
                                     ) -> AsyncIterator[bytes]:
    """Anthropic SSE bytes -> Chat Completions SSE bytes. `[DONE]` follows `message_stop`
    only; an `event: error` becomes an error chunk."""
    parser = SSEParser()
    decoder = ac.StreamDecoder()
    encoder = os_.StreamEncoder(notes, include_usage, model)
    async for chunk in chunks:
        parts: list[bytes] = []
        for event, payload in strict_json_events(parser, chunk):
            name = event.event or str(payload.get("type", ""))
            parts.extend(encoder.encode(e) for e in decoder.feed(name, payload))
        out = b"".join(parts)
        if out:
            yield out
