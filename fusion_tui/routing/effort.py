"""Reasoning effort as a routing dimension: the effort a tier (and upstream) is served at,
and where each client protocol carries it.

Changing effort keeps the model, and with it the prompt cache; that is why a tier maps to
an effort as well as a pool. Sans-IO: pure functions over settings and request bodies.
"""

from __future__ import annotations

from typing import Any

from fusion_tui.config import Settings
from fusion_tui.config.tiers import Tier
from fusion_tui.protocols.wire import Wire


def effort_for(settings: Settings, tier: Tier | None, upstream_id: str) -> str | None:
    """The effort configured for `tier` on `upstream_id` (`routing.effort_by_upstream`
    first, then `routing.effort`); None when no tier or nothing configured."""
    if tier is None:
        return None
    routing = settings.routing
    per_upstream = routing.effort_by_upstream.get(upstream_id, {})
    return per_upstream.get(tier) or routing.effort.get(tier)


def client_effort(body: dict[str, Any], wire: Wire) -> str | None:
    """The effort the client asked for in its own protocol's field, if any."""
    if wire == Wire.ANTHROPIC:
        holder = body.get("output_config")
        value = holder.get("effort") if isinstance(holder, dict) else None
    elif wire == Wire.OPENAI:
        value = body.get("reasoning_effort")
    else:
        holder = body.get("reasoning")
        value = holder.get("effort") if isinstance(holder, dict) else None
    return value if isinstance(value, str) and value else None


def with_effort(body: dict[str, Any], wire: Wire, effort: str) -> dict[str, Any]:
    """A copy of `body` asking for `effort` in `wire`'s field: `output_config.effort`
    (Anthropic Messages), `reasoning_effort` (Chat Completions), `reasoning.effort`
    (Responses). Sibling keys of those objects are kept."""
    if wire == Wire.ANTHROPIC:
        holder = body.get("output_config")
        return {**body, "output_config": {**(holder if isinstance(holder, dict) else {}),
                                          "effort": effort}}
    if wire == Wire.OPENAI:
        return {**body, "reasoning_effort": effort}
    holder = body.get("reasoning")
    return {**body, "reasoning": {**(holder if isinstance(holder, dict) else {}),
                                  "effort": effort}}


def decide_effort(settings: Settings, tier: Tier | None, upstream_id: str,
                  body: dict[str, Any], wire: Wire) -> tuple[str | None, bool]:
    """(the effort the call goes out at, whether the body must be changed to say it).
    The client's own value is kept unless `routing.effort_override`; with nothing
    configured for the tier the client's value (or none) goes out unchanged."""
    routed = effort_for(settings, tier, upstream_id)
    asked = client_effort(body, wire)
    if routed is None or (asked is not None and not settings.routing.effort_override):
        return asked, False
    return routed, routed != asked
