"""POST /v1/responses: the OpenAI Responses surface (Codex CLI, `client.responses.create`).

Requests are routed, councilled and failed over like any other (the engine's Responses
dialect: pass-through to Responses upstreams, translation to the others).
`previous_response_id` is refused with a 400: the proxy stores no responses and the next turn
may be served by another model, so clients send the whole conversation (`store: false`,
what Codex does).
"""

from __future__ import annotations

from aiohttp import web

from fusion_tui.core.engine import RESPONSES as RESPONSES_DIALECT
from fusion_tui.core.engine.dialects import check_responses
from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.protocols.openai import error_body
from fusion_tui.server import relay_responses
from fusion_tui.server.errors import openai_error
from fusion_tui.server.handler import Surface, serve


def _error(status: int, message: str, exc: RequestError | None,
           headers: dict[str, str] | None) -> web.Response:
    return openai_error(status, message, param=exc.param if exc else None, headers=headers)


RESPONSES = Surface(RESPONSES_DIALECT, check_responses, _error, relay_responses.relay_json,
                    relay_responses.relay_stream)


async def responses(request: web.Request) -> web.StreamResponse:
    """Serve a Responses request through the chosen upstream."""
    return await serve(request, RESPONSES)


async def not_stored(request: web.Request) -> web.Response:
    """GET/DELETE /v1/responses/{id}: nothing is stored, so nothing is found."""
    return web.json_response(error_body(404, f"response {request.match_info['response_id']} "
                                             "not found: fusion-tui stores no responses"),
                             status=404)


__all__ = ["RESPONSES", "not_stored", "responses"]
