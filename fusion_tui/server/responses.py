"""POST /v1/responses: the OpenAI Responses surface (Codex CLI, `client.responses.create`).

Requests are routed, councilled and failed over like any other; the upstream is called
through `call_responses` (pass-through to Responses upstreams, translation to the others).
`previous_response_id` is refused with a 400: the proxy stores no responses and the next turn
may be served by another model, so clients send the whole conversation (`store: false`,
what Codex does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.openai import error_body
from fusion_tui.protocols.responses import (
    check_responses_request,
    event_frame,
    failed_event,
    input_items,
)
from fusion_tui.protocols.responses_codec import response_object
from fusion_tui.protocols.translate_responses import responses_to_anthropic_request
from fusion_tui.server import relay_responses
from fusion_tui.server.errors import openai_error
from fusion_tui.server.handler import Surface, serve
from fusion_tui.upstreams import Upstream, UpstreamReply
from fusion_tui.upstreams.translated_responses import (
    anthropic_reply_as_responses,
    call_responses,
)

PROXY_KEY_PREFIX = "fusion_"
ALIAS = "messages"
"""A summary of `input` the shared handler reads (it counts messages and derives the session
id from the first user text); never sent upstream."""


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("type", "message") != "message":
        return {"role": "user" if str(item.get("type", "")).endswith("_output")
                else "assistant", "type": item.get("type")}
    content = item.get("content")
    if isinstance(content, list):
        content = "\n".join(str(p.get("text", "")) for p in content
                            if isinstance(p, dict) and "text" in p)
    return {"role": item.get("role"), "content": content if isinstance(content, str) else ""}


def check(body: Any) -> dict[str, Any]:
    """Validate a Responses request; add the summary the handler reads."""
    checked = check_responses_request(body)
    return {**checked, ALIAS: [_summary(i) for i in input_items(checked)]}


def wire_body(body: dict[str, Any]) -> dict[str, Any]:
    """The request as the client sent it (no summary, no proxy keys)."""
    return {k: v for k, v in body.items()
            if k != ALIAS and not k.startswith(PROXY_KEY_PREFIX)}


def _error(status: int, message: str, exc: RequestError | None,
           headers: dict[str, str] | None) -> web.Response:
    return openai_error(status, message, param=exc.param if exc else None, headers=headers)


async def _call(upstream: Upstream, body: dict[str, Any],
                headers: Mapping[str, str]) -> UpstreamReply:
    return await call_responses(upstream, wire_body(body), headers)


def anthropic_view(body: dict[str, Any]) -> dict[str, Any]:
    """The request in Anthropic shape (what the gate and the council read)."""
    wire = wire_body(body)
    return responses_to_anthropic_request(wire, Notes(), model=str(wire.get("model", "")),
                                          default_max_tokens=int(
                                              wire.get("max_output_tokens") or 4096))


def inject(body: dict[str, Any], briefing: str) -> dict[str, Any]:
    """A copy of the request with the briefing as a trailing developer message."""
    items = [*input_items(body), {"type": "message", "role": "developer",
                                  "content": briefing}]
    return {**body, "input": items}


def _opening(request_id: str, model: str) -> bytes:
    snapshot = response_object(f"resp_{request_id}", model, [], "in_progress", None)
    return (event_frame({"type": "response.created", "sequence_number": 0,
                         "response": snapshot})
            + event_frame({"type": "response.in_progress", "sequence_number": 1,
                           "response": snapshot}))


def _stream_error(status: int, message: str) -> bytes:
    return failed_event(status, message, sequence_number=relay_responses.OPENING_EVENTS)


RESPONSES = Surface(
    "responses", check, _error, _call, relay_responses.relay_json,
    relay_responses.relay_stream, anthropic_view=anthropic_view, inject=inject,
    opening=_opening, keepalive=b": keep-alive\n\n", stream_error=_stream_error,
    from_anthropic=anthropic_reply_as_responses,
    as_sent=lambda body: {k: v for k, v in body.items() if k != ALIAS})


async def responses(request: web.Request) -> web.StreamResponse:
    """Serve a Responses request through the chosen upstream."""
    return await serve(request, RESPONSES)


async def not_stored(request: web.Request) -> web.Response:
    """GET/DELETE /v1/responses/{id}: nothing is stored, so nothing is found."""
    return web.json_response(error_body(404, f"response {request.match_info['response_id']} "
                                             "not found: fusion-tui stores no responses"),
                             status=404)


__all__ = ["RESPONSES", "not_stored", "responses"]
