"""What the engine must know of each client protocol, with no HTTP in it: how to call an
upstream in it, how to read it as the gate and the council do (Anthropic shape), where a
briefing goes, and the bytes of a stream the proxy opens itself (opening, keep-alive,
mid-stream error), plus how a reply the proxy made in Anthropic shape is said in it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fusion_tui.council import render
from fusion_tui.council.inject import inject_anthropic, inject_openai
from fusion_tui.protocols.anthropic import error_body as anthropic_error_body
from fusion_tui.protocols.openai_stream import data_frame, error_frame
from fusion_tui.protocols.responses import (
    OPENING_EVENTS,
    check_responses_request,
    event_frame,
    failed_event,
    input_items,
)
from fusion_tui.protocols.responses_codec import response_object
from fusion_tui.protocols.sse import encode_sse
from fusion_tui.protocols.translation import anthropic_view
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams import Upstream, UpstreamReply
from fusion_tui.upstreams.translated import anthropic_reply_as_openai
from fusion_tui.upstreams.translated_responses import anthropic_reply_as_responses

PROXY_KEY_PREFIX = "fusion_"
"""Body keys meant for the proxy itself (route overrides); never sent upstream."""


@dataclass(frozen=True)
class Dialect:
    """One client protocol, as the engine needs it."""

    protocol: Wire
    call: Callable[[Upstream, dict[str, Any], Mapping[str, str]], Awaitable[UpstreamReply]]
    """Call an upstream with the client's request (translated when the upstream speaks
    another protocol)."""
    anthropic_view: Callable[[dict[str, Any]], dict[str, Any]]
    """The request in Anthropic shape (what the gate and the council read)."""
    inject: Callable[[dict[str, Any], str], dict[str, Any]]
    """The request with a briefing added after its last cache breakpoint."""
    opening: Callable[[str, str], bytes]
    """First bytes of a stream opened before the answer exists (request id, model)."""
    keepalive: bytes
    """What keeps an opened stream alive while the council sits."""
    stream_error: Callable[[int, str], bytes]
    """An error inside an opened stream, in the protocol's own form."""
    from_anthropic: Callable[[UpstreamReply, dict[str, Any], str], UpstreamReply]
    """An Anthropic-wire reply the proxy produced, in this protocol (body, model)."""
    as_sent: Callable[[dict[str, Any]], dict[str, Any]] = dict
    """The checked body as the client sent it, for the recording (without what the check
    added for the engine)."""


def _without_proxy_keys(body: dict[str, Any]) -> dict[str, Any]:
    if any(k.startswith(PROXY_KEY_PREFIX) for k in body):
        return {k: v for k, v in body.items() if not k.startswith(PROXY_KEY_PREFIX)}
    return body


# Anthropic Messages ------------------------------------------------------------------------

async def _call_messages(upstream: Upstream, body: dict[str, Any],
                         headers: Mapping[str, str]) -> UpstreamReply:
    return await upstream.messages(body, headers)


ANTHROPIC = Dialect(
    Wire.ANTHROPIC, _call_messages, anthropic_view=lambda body: body, inject=inject_anthropic,
    opening=lambda request_id, model: render.message_start(f"msg_{request_id}", model),
    keepalive=encode_sse("ping", {"type": "ping"}),
    stream_error=lambda status, message: encode_sse("error",
                                                    anthropic_error_body(status, message)),
    from_anthropic=lambda reply, body, model: reply)


# OpenAI Chat Completions -------------------------------------------------------------------

async def _call_chat(upstream: Upstream, body: dict[str, Any],
                     headers: Mapping[str, str]) -> UpstreamReply:
    return await upstream.chat_completions(_without_proxy_keys(body), headers)


def _chat_opening(request_id: str, model: str) -> bytes:
    return data_frame({"id": f"chatcmpl-{request_id}", "object": "chat.completion.chunk",
                       "created": int(time.time()), "model": model,
                       "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "logprobs": None, "finish_reason": None}]})


OPENAI = Dialect(
    Wire.OPENAI, _call_chat, anthropic_view=lambda body: anthropic_view(body, Wire.OPENAI),
    inject=inject_openai, opening=_chat_opening, keepalive=b": keep-alive\n\n",
    stream_error=error_frame, from_anthropic=anthropic_reply_as_openai)


# OpenAI Responses --------------------------------------------------------------------------

RESPONSES_SUMMARY = "messages"
"""A summary of a Responses request's `input` that the engine reads (it counts messages and
derives the session id from the first user text); never sent upstream."""


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("type", "message") != "message":
        return {"role": "user" if str(item.get("type", "")).endswith("_output")
                else "assistant", "type": item.get("type")}
    content = item.get("content")
    if isinstance(content, list):
        content = "\n".join(str(p.get("text", "")) for p in content
                            if isinstance(p, dict) and "text" in p)
    return {"role": item.get("role"), "content": content if isinstance(content, str) else ""}


def check_responses(body: Any) -> dict[str, Any]:
    """Validate a Responses request; add the summary the engine reads."""
    checked = check_responses_request(body)
    return {**checked, RESPONSES_SUMMARY: [_summary(i) for i in input_items(checked)]}


def responses_wire_body(body: dict[str, Any]) -> dict[str, Any]:
    """The Responses request as the client sent it (no summary, no proxy keys)."""
    return {k: v for k, v in body.items()
            if k != RESPONSES_SUMMARY and not k.startswith(PROXY_KEY_PREFIX)}


async def _call_responses(upstream: Upstream, body: dict[str, Any],
                          headers: Mapping[str, str]) -> UpstreamReply:
    return await upstream.responses(responses_wire_body(body), headers)


def _responses_view(body: dict[str, Any]) -> dict[str, Any]:
    return anthropic_view(responses_wire_body(body), Wire.RESPONSES)


def _responses_inject(body: dict[str, Any], briefing: str) -> dict[str, Any]:
    """A copy of the request with the briefing as a trailing developer message."""
    items = [*input_items(body), {"type": "message", "role": "developer",
                                  "content": briefing}]
    return {**body, "input": items}


def _responses_opening(request_id: str, model: str) -> bytes:
    snapshot = response_object(f"resp_{request_id}", model, [], "in_progress", None)
    return (event_frame({"type": "response.created", "sequence_number": 0,
                         "response": snapshot})
            + event_frame({"type": "response.in_progress", "sequence_number": 1,
                           "response": snapshot}))


RESPONSES = Dialect(
    Wire.RESPONSES, _call_responses, anthropic_view=_responses_view, inject=_responses_inject,
    opening=_responses_opening, keepalive=b": keep-alive\n\n",
    stream_error=lambda status, message: failed_event(status, message,
                                                      sequence_number=OPENING_EVENTS),
    from_anthropic=anthropic_reply_as_responses,
    as_sent=lambda body: {k: v for k, v in body.items() if k != RESPONSES_SUMMARY})

DIALECTS = {d.protocol: d for d in (ANTHROPIC, OPENAI, RESPONSES)}
