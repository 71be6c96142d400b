"""POST /v1/chat/completions: the OpenAI Chat Completions surface."""

from __future__ import annotations

from aiohttp import web

from fusion_tui.core.engine import OPENAI as OPENAI_DIALECT
from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.protocols.openai import check_chat_request
from fusion_tui.server import relay_openai
from fusion_tui.server.errors import openai_error
from fusion_tui.server.handler import Surface, serve


def _error(status: int, message: str, exc: RequestError | None,
           headers: dict[str, str] | None) -> web.Response:
    return openai_error(status, message, param=exc.param if exc else None, headers=headers)


OPENAI = Surface(OPENAI_DIALECT, check_chat_request, _error, relay_openai.relay_json,
                 relay_openai.relay_stream)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Serve a Chat Completions request through the chosen upstream."""
    return await serve(request, OPENAI)
