"""Deciding who answers: the router (and, with smart routing, the gate and failover)."""

from fusion_tui.routing.explain import format_route
from fusion_tui.routing.router import GateVerdict, Overrides, RouteOverrideError, RoutePlan, Router
from fusion_tui.routing.session_id import session_id_for

__all__ = [
    "GateVerdict",
    "Overrides",
    "RouteOverrideError",
    "RoutePlan",
    "Router",
    "format_route",
    "session_id_for",
]
