"""POST /v1/chat/completions: the OpenAI Chat Completions surface."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from fusion_tui.council.inject import inject_openai
from fusion_tui.protocols import translate_request_openai_to_anthropic
from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.protocols.openai import check_chat_request
from fusion_tui.protocols.openai_stream import data_frame, error_frame
from fusion_tui.server import relay_openai
from fusion_tui.server.errors import openai_error
from fusion_tui.server.handler import Surface, serve
from fusion_tui.upstreams import Upstream, UpstreamReply
from fusion_tui.upstreams.translated import anthropic_reply_as_openai

# Body keys meant for the proxy itself (route overrides); never sent upstream.
PROXY_KEY_PREFIX = "fusion_"


def _error(status: int, message: str, exc: RequestError | None,
           headers: dict[str, str] | None) -> web.Response:
    return openai_error(status, message, param=exc.param if exc else None, headers=headers)


async def _call(upstream: Upstream, body: dict[str, Any],
                headers: Mapping[str, str]) -> UpstreamReply:
    if any(k.startswith(PROXY_KEY_PREFIX) for k in body):
        body = {k: v for k, v in body.items() if not k.startswith(PROXY_KEY_PREFIX)}
    return await upstream.chat_completions(body, headers)


def _opening(request_id: str, model: str) -> bytes:
    return data_frame({"id": f"chatcmpl-{request_id}", "object": "chat.completion.chunk",
                       "created": int(time.time()), "model": model,
                       "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "logprobs": None, "finish_reason": None}]})


OPENAI = Surface(
    "openai", check_chat_request, _error, _call, relay_openai.relay_json,
    relay_openai.relay_stream, anthropic_view=translate_request_openai_to_anthropic,
    inject=inject_openai, opening=_opening, keepalive=b": keep-alive\n\n",
    stream_error=error_frame, from_anthropic=anthropic_reply_as_openai)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Serve a Chat Completions request through the chosen upstream."""
    return await serve(request, OPENAI)
