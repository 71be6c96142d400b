"""Steering over HTTP: the `Controls` acts for dashboards in another process
(`fusion-tui attach`), Claude Code's slash commands (`fusion-tui steer`) and its status line.

- `POST /fusion/steer` with `{"act": <name>, ...arguments}` applies one act (`ACTS` lists
  them and their arguments); 200 `{"ok": true}`, 409 when the proxy refuses it (nothing held,
  not in flight, unknown upstream) with the reason, 400 for a malformed call.
- `GET /fusion/steering`: what a person set (per session and everywhere), pins, requests in
  flight and held briefings: what a remote dashboard mirrors.
- `GET /fusion/sessions/{id}`: one session at a glance (tier, actor, whether the council sat
  on its last turn, cost so far, a held briefing), for the status line.

All of them need the control token (server/control_auth.py)."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web

from fusion_tui.config import Settings
from fusion_tui.core.controls import Controls, CouncilPlan, SessionSteering, SteeringError
from fusion_tui.events import (
    Event,
    EventBus,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
    SessionPinned,
)
from fusion_tui.events.council import (
    BriefingDecided,
    BriefingHeld,
    CostRecorded,
    CouncilConvened,
)
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.errors import error_for
from fusion_tui.server.events_stream import require_control

MAX_SESSIONS = 1_000
"""Sessions the at-a-glance table remembers (least recently active forgotten first)."""


class BadCall(ValueError):
    """A steering call whose arguments are missing or of the wrong type."""


def _text(args: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        if required:
            raise BadCall(f"{name} is required")
        return None
    if not isinstance(value, str) or len(value) > 20_000:
        raise BadCall(f"{name} must be a string")
    return value


def _session(args: dict[str, Any]) -> str | None:
    """The optional session scope (absent: everywhere)."""
    return _text(args, "session", required=False)


def _flag(args: dict[str, Any], name: str, default: bool | None) -> bool | None:
    value = args.get(name, default)
    if value is not None and not isinstance(value, bool):
        raise BadCall(f"{name} must be true, false or null")
    return value


def _must(value: str | None) -> str:
    assert value is not None  # _text(..., required=True) never returns None
    return value


Act = Callable[[Controls, dict[str, Any], str], None]

ACTS: dict[str, tuple[str, Act]] = {
    "force_tier": ("session, tier", lambda c, a, s: c.force_next_tier(
        _must(_text(a, "session")), _must(_text(a, "tier")), s)),
    "lock_tier": ("session, tier (null: auto)", lambda c, a, s: c.lock_tier(
        _must(_text(a, "session")), _text(a, "tier", False), s)),
    "swap_actor": ("session, upstream", lambda c, a, s: c.swap_actor(
        _must(_text(a, "session")), _must(_text(a, "upstream")), s)),
    "pin": ("session, upstream", lambda c, a, s: c.pin(
        _must(_text(a, "session")), _must(_text(a, "upstream")), s)),
    "unpin": ("session", lambda c, a, s: c.unpin(_must(_text(a, "session")), s)),
    "mute_advisor": ("advisor, muted (default true), session?", lambda c, a, s: c.mute_advisor(
        _must(_text(a, "advisor")), bool(_flag(a, "muted", True)), _session(a), s)),
    "add_advisor": ("advisor, session?", lambda c, a, s: c.add_advisor(
        _must(_text(a, "advisor")), _session(a), s)),
    "remove_advisor": ("advisor, session?", lambda c, a, s: c.remove_advisor(
        _must(_text(a, "advisor")), _session(a), s)),
    "replace_advisor": ("advisor, by, session?", lambda c, a, s: c.replace_advisor(
        _must(_text(a, "advisor")), _must(_text(a, "by")), _session(a), s)),
    "set_judge": ("judge (null: configured), session?", lambda c, a, s: c.set_judge(
        _text(a, "judge", False), _session(a), s)),
    "set_perspective": ("advisor, perspective (null: configured), session?",
                        lambda c, a, s: c.set_perspective(
                            _must(_text(a, "advisor")), _text(a, "perspective", False),
                            _session(a), s)),
    "set_council": ("enabled (true/false/null), session?", lambda c, a, s: c.set_council(
        _flag(a, "enabled", None), _session(a), s)),
    "set_hold": ("mode", lambda c, a, s: c.set_hold(_must(_text(a, "mode")), s)),
    "decide_briefing": ("request, decision (approve/edit/skip), text?",
                        lambda c, a, s: c.decide_briefing(
                            _must(_text(a, "request")), _must(_text(a, "decision")),
                            _text(a, "text", False), s)),
    "drop": ("request", lambda c, a, s: c.drop(_must(_text(a, "request")), s)),
}
"""Act name -> (its arguments, for error messages; the call)."""

SOURCES = frozenset({"ui", "attach", "claude", "cli"})
"""Who may be named as an act's source (it shows as `override:<source>`)."""


async def steer(request: web.Request) -> web.Response:
    """Apply one act (see the module's docstring)."""
    refused = require_control(request)
    if refused is not None:
        return refused
    try:
        args = await request.json()
    except ValueError:
        return error_for(request, 400, "the body must be a JSON object")
    if not isinstance(args, dict):
        return error_for(request, 400, "the body must be a JSON object")
    name = args.get("act")
    if not isinstance(name, str) or name not in ACTS:
        return error_for(request, 400, f"act must be one of {', '.join(ACTS)}")
    source = args.get("source", "attach")
    if source not in SOURCES:
        return error_for(request, 400, f"source must be one of {', '.join(sorted(SOURCES))}")
    spec, act = ACTS[name]
    controls = request.app[STATE].controls
    try:
        act(controls, args, source)
    except BadCall as exc:
        return error_for(request, 400, f"{name} ({spec}): {exc}")
    except (SteeringError, ValueError) as exc:
        return error_for(request, 409, f"{name} refused: {exc}")
    return web.json_response({"ok": True, "act": name})


def _plan(plan: CouncilPlan) -> dict[str, Any]:
    return dataclasses.asdict(plan)


def _steering(steering: SessionSteering) -> dict[str, Any]:
    return {"next_tier": steering.next_tier, "locked_tier": steering.locked_tier,
            "actor": steering.actor, "muted": sorted(steering.muted),
            "council": steering.council, "composition": _plan(steering.composition)}


def snapshot(controls: Controls, council_configured: bool) -> dict[str, Any]:
    """What a remote dashboard mirrors (JSON-ready)."""
    known = set(controls.sessions) | {f.session_id for f in controls.inflight.values()}
    return {
        "upstreams": sorted(controls.upstream_ids),
        "sessions": {sid: _steering(s) for sid, s in controls.sessions.items()},
        "muted_globally": sorted(controls.muted_globally),
        "council_globally": controls.council_globally,
        "council_configured": council_configured,
        "composition_globally": _plan(controls.composition_globally),
        "hold_mode": controls.hold_mode,
        "pins": {sid: pin for sid in known if (pin := controls.pins.get(sid))},
        "inflight": {rid: f.session_id for rid, f in controls.inflight.items()},
        "held": controls.hold_desk.pending,
    }


def proxy_facts(settings: Settings, address: str) -> dict[str, Any]:
    """What an attached dashboard's status bar shows about the proxy (no secrets: whether a
    key is missing, never the key)."""
    council = settings.council
    return {
        "address": address,
        "upstreams": [{"id": u.id, "simulated": u.simulated,
                       "key_missing": bool(u.api_key_env) and not u.api_key()}
                      for u in settings.upstreams],
        "advisors": list(dict.fromkeys([*settings.pools.council, *council.advisors])),
        "actors": list(settings.pools.actor),
        "judges": list(settings.pools.judge),
        "hold": council.hold, "council": council.enabled,
        "hold_timeout_s": council.hold_timeout_s,
        "routing_mode": str(settings.routing.mode),
        "sessions_dir": str(settings.sessions.path), "record": settings.sessions.record,
    }


async def steering_state(request: web.Request) -> web.Response:
    """`GET /fusion/steering`: the steering state, and (`proxy`) the facts an attached
    dashboard shows about the proxy."""
    refused = require_control(request)
    if refused is not None:
        return refused
    state = request.app[STATE]
    data = snapshot(state.controls, state.settings.council.enabled)
    data["proxy"] = proxy_facts(state.settings, state.address)
    return web.json_response(data)


@dataclasses.dataclass
class SessionGlance:
    """One session at a glance, folded from its events."""

    session_id: str
    tier: str = ""
    actor: str = ""
    route: str = ""
    turns: int = 0
    council_last_turn: bool = False
    last_request: str = ""
    held: str = ""
    cost_usd: float = 0.0
    in_flight: bool = False


class SessionGlances:
    """A bus listener keeping `SessionGlance`s for the most recent sessions."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self.sessions: OrderedDict[str, SessionGlance] = OrderedDict()

    def _glance(self, session_id: str) -> SessionGlance:
        glance = self.sessions.pop(session_id, None) or SessionGlance(session_id)
        self.sessions[session_id] = glance
        if len(self.sessions) > self.max_sessions:
            self.sessions.popitem(last=False)
        return glance

    def __call__(self, event: Event) -> None:
        """Fold one event."""
        if not event.session_id:
            return
        if isinstance(event, RequestReceived):
            glance = self._glance(event.session_id)
            glance.turns += 1
            glance.last_request = event.request_id
            glance.council_last_turn = False
            glance.in_flight = True
            return
        glance_or_none = self.sessions.get(event.session_id)
        if glance_or_none is None:
            return
        glance = glance_or_none
        if isinstance(event, RouteChosen):
            glance.tier = event.tier
            glance.actor = event.upstream_id
        elif isinstance(event, SessionPinned):
            glance.actor = event.upstream_id
        elif isinstance(event, CouncilConvened):
            glance.council_last_turn = event.request_id == glance.last_request
            glance.actor = event.actor
        elif isinstance(event, BriefingHeld):
            glance.held = event.request_id
        elif isinstance(event, BriefingDecided) and glance.held == event.request_id:
            glance.held = ""
        elif isinstance(event, CostRecorded):
            glance.cost_usd = event.session_total_usd
        elif isinstance(event, ResponseFinished):
            glance.route = event.route
            if event.request_id == glance.last_request:
                glance.in_flight = False
            if glance.held == event.request_id:
                glance.held = ""
            if event.upstream_id and event.status < 400:
                glance.actor = event.upstream_id


GLANCES = web.AppKey("session_glances", SessionGlances)


async def session_glance(request: web.Request) -> web.Response:
    """`GET /fusion/sessions/{id}`: 404 when the proxy has not seen the session."""
    refused = require_control(request)
    if refused is not None:
        return refused
    sid = request.match_info["session_id"]
    glance = request.app[GLANCES].sessions.get(sid)
    if glance is None:
        return error_for(request, 404, f"no session {sid} in this proxy (yet)")
    state = request.app[STATE]
    data = dataclasses.asdict(glance)
    data["cost_usd"] = max(glance.cost_usd, state.costs.sessions.get(sid, 0.0))
    steering = state.controls.sessions.get(sid)
    data["steering"] = _steering(steering) if steering else None
    data["hold_mode"] = state.controls.hold_mode
    data["council_enabled"] = state.controls.council_enabled(sid,
                                                             state.settings.council.enabled)
    return web.json_response(data)


def install(app: web.Application, bus: EventBus) -> None:
    """Register the steering routes and the session table on `bus`."""
    glances = SessionGlances()
    stop = bus.listen(glances)
    app[GLANCES] = glances
    app.router.add_post("/fusion/steer", steer)
    app.router.add_get("/fusion/steering", steering_state)
    app.router.add_get("/fusion/sessions/{session_id}", session_glance)

    async def stop_listening(app: web.Application) -> None:
        stop()

    app.on_cleanup.append(stop_listening)
