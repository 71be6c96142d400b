"""The Responses API and the other two protocols, upstream side: how an Anthropic- or
OpenAI-protocol upstream serves `Upstream.responses` (`responses_via_messages`,
`responses_via_chat`), and how a Responses-protocol upstream serves `messages` and
`chat_completions`. Each is `translated.call_translated` for its pair (through the neutral
model and back); an upstream whose native protocol is Responses (openai-responses, codex) gets
a Responses body as it came (pass-through: only model and limits change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.openai_codec import TokenField
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import UpstreamReply
from fusion_tui.upstreams.translated import NativeCall, call_translated, translated_reply


async def responses_via_messages(call: NativeCall, settings: UpstreamSettings,
                                 body: dict[str, Any], headers: Mapping[str, str]
                                 ) -> UpstreamReply:
    """A Responses request served by an Anthropic-protocol upstream's `call`."""
    return await call_translated(call, settings, body, headers, Wire.RESPONSES, Wire.ANTHROPIC)


async def responses_via_chat(call: NativeCall, settings: UpstreamSettings,
                             token_field: TokenField, body: dict[str, Any],
                             headers: Mapping[str, str]) -> UpstreamReply:
    """A Responses request served by a Chat Completions upstream's `call`."""
    return await call_translated(call, settings, body, headers, Wire.RESPONSES, Wire.OPENAI,
                                 token_field)


async def messages_via_responses(call: NativeCall, settings: UpstreamSettings,
                                 body: dict[str, Any], headers: Mapping[str, str]
                                 ) -> UpstreamReply:
    """An Anthropic Messages request served by a Responses upstream's `call`."""
    return await call_translated(call, settings, body, headers, Wire.ANTHROPIC, Wire.RESPONSES)


async def chat_via_responses(call: NativeCall, settings: UpstreamSettings,
                             body: dict[str, Any], headers: Mapping[str, str]
                             ) -> UpstreamReply:
    """A Chat Completions request served by a Responses upstream's `call`."""
    return await call_translated(call, settings, body, headers, Wire.OPENAI, Wire.RESPONSES)


def anthropic_reply_as_responses(reply: UpstreamReply, client_body: dict[str, Any],
                                 model: str) -> UpstreamReply:
    """An Anthropic-wire reply the proxy produced (the panel), in Responses wire."""
    return translated_reply(reply, Notes(), client_body, Wire.ANTHROPIC, Wire.RESPONSES, model)
