"""Serving one protocol with an upstream that speaks another: translate the request, make the
native call, translate the reply (JSON, SSE stream, or error) back, all through
`protocols/translation` (`translate`, `translate_stream`) and `protocols/errors.error_bytes`.
`call_translated` is the one way; the named functions say which pair an upstream type uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.errors import error_bytes
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.openai_codec import TokenField
from fusion_tui.protocols.translation import translate, translate_stream
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import UpstreamReply

NativeCall = Callable[[dict[str, Any], Mapping[str, str]], Awaitable[UpstreamReply]]
DEFAULT_MAX_TOKENS = 4096
"""max_tokens sent to an Anthropic upstream when the client set none (Anthropic requires it)
and the upstream has no max_output_tokens."""

_KEPT_HEADERS = ("retry-after", "x-fusion-simulated")


def _headers(reply: UpstreamReply, content_type: str) -> dict[str, str]:
    kept = {k: v for k, v in reply.headers.items() if k in _KEPT_HEADERS}
    return {**kept, "content-type": content_type}


def translated_reply(reply: UpstreamReply, notes: Notes, client_body: dict[str, Any],
                     native: Wire, client: Wire, model: str) -> UpstreamReply:
    """`reply`, in `native` wire, as the `client` wire: an error body, a stream (the answer
    named `model` where the stream does not name it), or a complete answer."""
    if not reply.ok:
        return UpstreamReply(reply.status, _headers(reply, "application/json"),
                             body=error_bytes(client, reply.status, reply.body or b""),
                             notes=notes.items)
    if client_body.get("stream") and reply.stream is not None:
        include_usage = bool((client_body.get("stream_options") or {}).get("include_usage"))
        stream = translate_stream(reply.stream, native, client, notes, model=model,
                                  include_usage=include_usage)
        return UpstreamReply(reply.status, _headers(reply, "text/event-stream"),
                             stream=stream, _release=reply._release, notes=notes.items)
    raw = reply.body or b""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        # Left as it came: the relay answers a 2xx non-JSON body with a 502 that says so.
        return UpstreamReply(reply.status, reply.headers, body=raw, notes=notes.items)
    answer = translate(parsed, native, client, notes, kind="response")
    return UpstreamReply(reply.status, _headers(reply, "application/json"),
                         body=orjson.dumps(answer), notes=notes.items)


async def call_translated(call: NativeCall, settings: UpstreamSettings, body: dict[str, Any],
                          headers: Mapping[str, str], client: Wire, native: Wire,
                          token_field: TokenField = "max_tokens") -> UpstreamReply:
    """Serve `body`, a `client`-wire request, with an upstream's `native`-wire `call`.
    `token_field` is where a Chat Completions upstream takes its limit."""
    notes = Notes()
    options: dict[str, Any] = {"model": settings.model}
    if native == Wire.ANTHROPIC:
        options["default_max_tokens"] = settings.max_output_tokens or DEFAULT_MAX_TOKENS
    elif native == Wire.OPENAI:
        options["token_field"] = token_field
    reply = await call(translate(body, client, native, notes, **options), headers)
    return translated_reply(reply, notes, body, native, client, settings.model)


async def messages_via_chat(call: NativeCall, settings: UpstreamSettings,
                            token_field: TokenField, body: dict[str, Any],
                            headers: Mapping[str, str]) -> UpstreamReply:
    """Serve an Anthropic Messages request with an OpenAI-protocol upstream's `call`."""
    return await call_translated(call, settings, body, headers, Wire.ANTHROPIC, Wire.OPENAI,
                                 token_field)


async def chat_via_messages(call: NativeCall, settings: UpstreamSettings,
                            body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
    """Serve an OpenAI Chat Completions request with an Anthropic-protocol upstream's `call`."""
    return await call_translated(call, settings, body, headers, Wire.OPENAI, Wire.ANTHROPIC)


def anthropic_reply_as_openai(reply: UpstreamReply, client_body: dict[str, Any],
                              model: str) -> UpstreamReply:
    """An Anthropic-wire reply (JSON, SSE or error) turned into Chat Completions wire for an
    OpenAI client (used where the proxy itself produced the answer: the panel)."""
    return translated_reply(reply, Notes(), client_body, Wire.ANTHROPIC, Wire.OPENAI, model)
