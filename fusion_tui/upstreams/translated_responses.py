"""The Responses API and the other two protocols, upstream side: how an Anthropic- or
OpenAI-protocol upstream serves `Upstream.responses` (`responses_via_messages`,
`responses_via_chat`), and how a Responses-protocol upstream serves `messages` and
`chat_completions`. Each goes through the neutral model and translates the reply back; an
upstream whose native protocol is Responses (openai-responses, codex) gets a Responses body
as it came (pass-through: only model and limits change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols import translate_responses as tr
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.openai_codec import TokenField
from fusion_tui.upstreams.base import UpstreamReply
from fusion_tui.upstreams.translated import DEFAULT_MAX_TOKENS, NativeCall, translated_reply


async def responses_via_messages(call: NativeCall, settings: UpstreamSettings,
                                 body: dict[str, Any], headers: Mapping[str, str]
                                 ) -> UpstreamReply:
    """A Responses request served by an Anthropic-protocol upstream's `call`."""
    notes = Notes()
    sent = tr.responses_to_anthropic_request(
        body, notes, model=settings.model,
        default_max_tokens=settings.max_output_tokens or DEFAULT_MAX_TOKENS)
    reply = await call(sent, headers)
    return translated_reply(reply, notes, bool(body.get("stream")),
                       tr.anthropic_to_responses_response, tr.error_to_responses,
                       lambda chunks: tr.anthropic_to_responses_stream(chunks, notes,
                                                                       model=settings.model))


async def responses_via_chat(call: NativeCall, settings: UpstreamSettings,
                             token_field: TokenField, body: dict[str, Any],
                             headers: Mapping[str, str]) -> UpstreamReply:
    """A Responses request served by a Chat Completions upstream's `call`."""
    notes = Notes()
    sent = tr.responses_to_openai_request(body, notes, model=settings.model,
                                          token_field=token_field)
    reply = await call(sent, headers)
    return translated_reply(reply, notes, bool(body.get("stream")),
                       tr.openai_to_responses_response, tr.error_to_responses,
                       lambda chunks: tr.openai_to_responses_stream(chunks, notes,
                                                                    model=settings.model))


async def messages_via_responses(call: NativeCall, settings: UpstreamSettings,
                                 body: dict[str, Any], headers: Mapping[str, str]
                                 ) -> UpstreamReply:
    """An Anthropic Messages request served by a Responses upstream's `call`."""
    notes = Notes()
    sent = tr.anthropic_to_responses_request(body, notes, model=settings.model)
    reply = await call(sent, headers)
    return translated_reply(reply, notes, bool(body.get("stream")),
                       tr.responses_to_anthropic_response, tr.error_to_anthropic,
                       lambda chunks: tr.responses_to_anthropic_stream(chunks, notes))


async def chat_via_responses(call: NativeCall, settings: UpstreamSettings,
                             body: dict[str, Any], headers: Mapping[str, str]
                             ) -> UpstreamReply:
    """A Chat Completions request served by a Responses upstream's `call`."""
    notes = Notes()
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    sent = tr.openai_to_responses_request(body, notes, model=settings.model)
    reply = await call(sent, headers)
    return translated_reply(reply, notes, bool(body.get("stream")),
                       tr.responses_to_openai_response, tr.error_to_openai,
                       lambda chunks: tr.responses_to_openai_stream(
                           chunks, notes, include_usage=include_usage, model=settings.model))


def anthropic_reply_as_responses(reply: UpstreamReply, client_body: dict[str, Any],
                                 model: str) -> UpstreamReply:
    """An Anthropic-wire reply the proxy produced (the panel), in Responses wire."""
    notes = Notes()
    return translated_reply(reply, notes, bool(client_body.get("stream")),
                       tr.anthropic_to_responses_response, tr.error_to_responses,
                       lambda chunks: tr.anthropic_to_responses_stream(chunks, notes,
                                                                       model=model))
