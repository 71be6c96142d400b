"""Serving one protocol with an upstream that speaks the other: translate the request, make
the native call, translate the reply (JSON, SSE stream, or error) back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols import translate
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.openai_codec import TokenField
from fusion_tui.upstreams.base import UpstreamReply

NativeCall = Callable[[dict[str, Any], Mapping[str, str]], Awaitable[UpstreamReply]]
DEFAULT_MAX_TOKENS = 4096
"""max_tokens sent to an Anthropic upstream when an OpenAI client set none (Anthropic
requires it) and the upstream has no max_output_tokens."""

_KEPT_HEADERS = ("retry-after", "x-fusion-simulated")


def _headers(reply: UpstreamReply, content_type: str) -> dict[str, str]:
    kept = {k: v for k, v in reply.headers.items() if k in _KEPT_HEADERS}
    return {**kept, "content-type": content_type}


def translated_reply(reply: UpstreamReply, notes: Notes, stream: bool,
                to_json: Callable[[dict[str, Any], Notes], dict[str, Any]],
                to_error: Callable[[int, bytes], bytes],
                to_stream: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]
                ) -> UpstreamReply:
    if not reply.ok:
        return UpstreamReply(reply.status, _headers(reply, "application/json"),
                             body=to_error(reply.status, reply.body or b""), notes=notes.items)
    if stream and reply.stream is not None:
        return UpstreamReply(reply.status, _headers(reply, "text/event-stream"),
                             stream=to_stream(reply.stream), _release=reply._release,
                             notes=notes.items)
    raw = reply.body or b""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        # Left as it came: the relay answers a 2xx non-JSON body with a 502 that says so.
        return UpstreamReply(reply.status, reply.headers, body=raw, notes=notes.items)
    return UpstreamReply(reply.status, _headers(reply, "application/json"),
                         body=orjson.dumps(to_json(parsed, notes)), notes=notes.items)


async def messages_via_chat(call: NativeCall, settings: UpstreamSettings,
                            token_field: TokenField, body: dict[str, Any],
                            headers: Mapping[str, str]) -> UpstreamReply:
    """Serve an Anthropic Messages request with an OpenAI-protocol upstream's `call`."""
    notes = Notes()
    stream = bool(body.get("stream"))
    sent = translate.anthropic_to_openai_request(body, notes, model=settings.model,
                                                 token_field=token_field)
    reply = await call(sent, headers)
    return translated_reply(reply, notes, stream, translate.openai_to_anthropic_response,
                       translate.error_to_anthropic,
                       lambda chunks: translate.openai_to_anthropic_stream(chunks, notes))


async def chat_via_messages(call: NativeCall, settings: UpstreamSettings,
                            body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
    """Serve an OpenAI Chat Completions request with an Anthropic-protocol upstream's `call`."""
    notes = Notes()
    stream = bool(body.get("stream"))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    sent = translate.openai_to_anthropic_request(
        body, notes, model=settings.model,
        default_max_tokens=settings.max_output_tokens or DEFAULT_MAX_TOKENS)
    reply = await call(sent, headers)
    return translated_reply(reply, notes, stream, translate.anthropic_to_openai_response,
                       translate.error_to_openai,
                       lambda chunks: translate.anthropic_to_openai_stream(
                           chunks, notes, include_usage=include_usage, model=settings.model))


def anthropic_reply_as_openai(reply: UpstreamReply, client_body: dict[str, Any],
                              model: str) -> UpstreamReply:
    """An Anthropic-wire reply (JSON, SSE or error) turned into Chat Completions wire for an
    OpenAI client (used where the proxy itself produced the answer: the panel)."""
    notes = Notes()
    include_usage = bool((client_body.get("stream_options") or {}).get("include_usage"))
    return translated_reply(reply, notes, bool(client_body.get("stream")),
                       translate.anthropic_to_openai_response, translate.error_to_openai,
                       lambda chunks: translate.anthropic_to_openai_stream(
                           chunks, notes, include_usage=include_usage, model=model))
