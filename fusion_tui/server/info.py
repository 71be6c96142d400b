"""Liveness, health and the model list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from fusion_tui.server.app_keys import STATE
from fusion_tui.server.auth import AUTHENTICATED
from fusion_tui.server.errors import error_for, openai_flavoured

FUSION_MODEL = "fusion"


async def hello(request: web.Request) -> web.Response:
    """200 for HEAD/GET / and /api/hello (connectivity probes)."""
    return web.json_response({"ok": True, "service": "fusion-tui"})


def _upstream_health(request: web.Request) -> list[dict[str, Any]]:
    state = request.app[STATE]
    rows = []
    for u in state.settings.upstreams:
        key_state = "none" if not u.api_key_env else ("set" if u.api_key() else "missing")
        if u.type == "codex":
            from fusion_tui.upstreams.codex_auth import codex_home

            # Whether the ChatGPT sign-in file exists; its tokens are never read out here.
            key_state = ("chatgpt-signin" if (codex_home(u.codex_home) / "auth.json").exists()
                         else "missing")
        rows.append({"id": u.id, "type": u.type, "model": u.model,
                     "simulated": u.simulated, "api_key": key_state})
    return rows


async def health(request: web.Request) -> web.Response:
    """Version, address, upstreams, classifier state, recording folder."""
    state = request.app[STATE]
    if state.settings.server.auth_key_env and not request.get(AUTHENTICATED):
        return web.json_response({"status": "ok"})  # liveness only without the key
    return web.json_response({
        "status": "ok",
        "version": state.version,
        "listening": state.address,
        "routing": {"mode": state.settings.routing.mode},
        "upstreams": _upstream_health(request),
        "classifier": _classifier(request),
        "breakers": state.breakers.snapshot(),
        "events": state.bus.health(),
        "council": {"enabled": state.settings.council.enabled,
                    "trigger": state.settings.council.trigger,
                    "hold": state.controls.hold_mode},
        "cost_usd": round(state.costs.total, 6),
        "sessions": {"dir": str(state.settings.sessions.path),
                     "record": state.settings.sessions.record},
    })


def _classifier(request: web.Request) -> dict[str, Any]:
    """The embedding classifier: `ready` is true only when smart requests can be judged;
    otherwise `error` says why (loading, failed with the reason, or not used)."""
    gate = request.app[STATE].gate
    if gate is None:
        return {"ready": False, "state": "disabled",
                "error": "not loaded: routing.mode is not smart"}
    snapshot = gate.snapshot()
    ready = snapshot["state"] == "ready"
    return {"ready": ready, **snapshot,
            "error": snapshot.get("error") if ready else gate.unavailable_reason()}


def _model_entries(request: web.Request) -> list[dict[str, Any]]:
    state = request.app[STATE]
    created = datetime.fromtimestamp(state.started, UTC).isoformat().replace("+00:00", "Z")
    entries = [{"type": "model", "id": FUSION_MODEL,
                "display_name": "fusion (routed by fusion-tui)", "created_at": created}]
    for u in state.settings.upstreams:
        label = f"{u.id} ({u.model}, simulated)" if u.simulated else f"{u.id} ({u.model})"
        entries.append({"type": "model", "id": u.id, "display_name": label,
                        "created_at": created})
    return entries


def _openai_entry(entry: dict[str, Any], created: float) -> dict[str, Any]:
    return {"id": entry["id"], "object": "model", "created": int(created),
            "owned_by": "fusion-tui"}


async def list_models(request: web.Request) -> web.Response:
    """GET /v1/models: OpenAI's list shape for OpenAI clients (see `openai_flavoured`),
    Anthropic's otherwise."""
    data = _model_entries(request)
    if openai_flavoured(request):
        started = request.app[STATE].started
        return web.json_response({"object": "list",
                                  "data": [_openai_entry(e, started) for e in data]})
    return web.json_response({"data": data, "has_more": False,
                              "first_id": data[0]["id"], "last_id": data[-1]["id"]})


async def get_model(request: web.Request) -> web.Response:
    """GET /v1/models/{id}, in the client's shape."""
    wanted = request.match_info["model_id"]
    for entry in _model_entries(request):
        if entry["id"] == wanted:
            if openai_flavoured(request):
                return web.json_response(_openai_entry(entry, request.app[STATE].started))
            return web.json_response(entry)
    return error_for(request, 404, f"model {wanted!r} not found")
