"""POST /v1/chat/completions: the OpenAI Chat Completions surface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.protocols.openai import check_chat_request
from fusion_tui.server import relay_openai
from fusion_tui.server.errors import openai_error
from fusion_tui.server.handler import Surface, serve
from fusion_tui.upstreams import Upstream, UpstreamReply

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


OPENAI = Surface("openai", check_chat_request, _error, _call, relay_openai.relay_json,
                 relay_openai.relay_stream)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Serve a Chat Completions request through the chosen upstream."""
    return await serve(request, OPENAI)
