"""POST /fusion/route: how a request would be routed, without calling any upstream."""

from __future__ import annotations

from aiohttp import web

from fusion_tui.core.explain import ExplainError, anthropic_view, detect_protocol, explain_decision
from fusion_tui.protocols.anthropic import RequestError
from fusion_tui.routing.router import RouteOverrideError
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.errors import anthropic_error
from fusion_tui.server.handler import read_json


async def explain_route(request: web.Request) -> web.Response:
    """Take an Anthropic or OpenAI request body (told by its shape or `?protocol=`) and answer
    {tier, scores, reason, segments, route}. 503 with the reason if the classifier is not
    ready; 400 for a body that is not a request."""
    from fusion_tui.routing.gate import GateUnavailable

    state = request.app[STATE]
    try:
        body = await read_json(request)
        protocol = detect_protocol(body, request.query.get("protocol"))
    except (RequestError, ExplainError) as exc:
        return anthropic_error(400, str(exc))
    if state.gate is None:
        return anthropic_error(503, "the classifier is not loaded: routing.mode is "
                                    f"{state.settings.routing.mode}, not smart")
    try:
        decision = await state.gate.classify(anthropic_view(body, protocol))
        answer = explain_decision(state.settings, decision, body,
                                  {k.lower(): v for k, v in request.headers.items()})
    except GateUnavailable as exc:
        return anthropic_error(503, f"classifier unavailable: {exc}")
    except RouteOverrideError as exc:
        return anthropic_error(400, str(exc))
    return web.json_response({"protocol": protocol, **answer})
