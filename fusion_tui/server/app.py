"""The aiohttp application factory."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fusion_tui.core.state import ProxyState
from fusion_tui.server import (
    chat,
    events_stream,
    explain,
    info,
    messages,
    responses,
    spend,
    steering,
)
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.auth import auth_middleware, client_key
from fusion_tui.server.errors import error_middleware

__all__ = ["STATE", "create_app"]


def create_app(state: ProxyState) -> web.Application:
    """Build the proxy's web application around `state`."""
    max_mb = state.settings.server.max_body_mb
    middlewares: list[Any] = [error_middleware]
    key = client_key(state.settings)
    if key is not None:
        middlewares.append(auth_middleware(key))
    app = web.Application(middlewares=middlewares, client_max_size=int(max_mb * 1024 * 1024))
    app[STATE] = state
    app.router.add_get("/", info.hello)
    app.router.add_get("/api/hello", info.hello)
    app.router.add_get("/health", info.health)
    app.router.add_post("/v1/messages", messages.messages)
    app.router.add_post("/v1/messages/count_tokens", messages.count_tokens)
    app.router.add_post("/v1/chat/completions", chat.chat_completions)
    app.router.add_post("/v1/responses", responses.responses)
    app.router.add_route("*", "/v1/responses/{response_id}", responses.not_stored)
    app.router.add_get("/v1/models", info.list_models)
    app.router.add_get("/v1/models/{model_id}", info.get_model)
    app.router.add_post("/fusion/route", explain.explain_route)
    app.router.add_get("/fusion/sessions", spend.sessions)
    events_stream.install(app, state.bus, state.control_token)
    steering.install(app, state.bus)

    async def close_upstreams(app: web.Application) -> None:
        for upstream in state.upstreams.values():
            await upstream.close()

    app.on_cleanup.append(close_upstreams)
    return app
