"""The router: which upstreams may serve a request, in which order, and why.

Sans-IO: it takes the facts of a request (session, tools, overrides, the gate's verdict) and
returns a plan. The server runs the plan (with failover) and the council issue consumes the
council and panel members it names.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fusion_tui.config import Settings
from fusion_tui.config.tiers import MODES, TIERS, RoutingMode, Tier
from fusion_tui.routing.explain import ReasonPart, RouteReason, format_route


class RouteOverrideError(ValueError):
    """An override header or body field has a value the router does not know (answer 400)."""


@dataclass(frozen=True)
class Overrides:
    """Per-request steering from headers (x-fusion-route, x-fusion-tier, x-fusion-panel), OpenAI
    body fields (fusion_route, fusion_tier) and the recursion guard (x-fusion-depth)."""

    mode: str | None = None
    tier: Tier | None = None
    panel: tuple[str, ...] = ()
    depth: int = 0
    source: str = ""

    @classmethod
    def parse(cls, headers: Mapping[str, str], body: Mapping[str, Any] | None = None) -> Overrides:
        """Read the overrides; RouteOverrideError names a bad value."""
        body = body or {}
        mode = tier = None
        sources = []
        route = headers.get("x-fusion-route") or body.get("fusion_route")
        if route:
            value = str(route).strip().lower()
            if value in MODES:
                mode = value
            elif value in TIERS:
                tier = Tier(value)
            else:
                raise RouteOverrideError(
                    f"x-fusion-route: expected one of {', '.join(MODES + TIERS)}, got {route!r}")
            sources.append("route")
        tier_value = headers.get("x-fusion-tier") or body.get("fusion_tier")
        if tier_value:
            value = str(tier_value).strip().lower()
            if value not in TIERS:
                raise RouteOverrideError(
                    f"x-fusion-tier: expected one of {', '.join(TIERS)}, got {tier_value!r}")
            tier = Tier(value)
            sources.append("tier")
        panel_raw = headers.get("x-fusion-panel", "")
        panel = tuple(p.strip() for p in panel_raw.replace("+", ",").split(",") if p.strip())
        if panel:
            sources.append("panel")
        try:
            depth = int(headers.get("x-fusion-depth", "0") or 0)
        except ValueError:
            raise RouteOverrideError("x-fusion-depth: expected an integer") from None
        return cls(mode, tier, panel, max(0, depth), "+".join(sources))


@dataclass(frozen=True)
class GateVerdict:
    """What the gate said about a request (see routing.gate)."""

    tier: Tier
    scores: Mapping[str, float]
    reason: str


@dataclass
class RoutePlan:
    """The router's decision: who may serve (in failover order) and the explanation."""

    mode: str
    tier: Tier | None
    candidates: list[str]
    reason: RouteReason
    scores: Mapping[str, float] | None = None
    actor: str | None = None
    council: list[str] = field(default_factory=list)
    panel: list[str] = field(default_factory=list)
    efforts: dict[str, str] = field(default_factory=dict)
    """The reasoning effort each candidate is called at (routing/effort.py), where one
    is sent."""

    @property
    def upstream_id(self) -> str:
        """The first choice."""
        return self.candidates[0]

    @property
    def header(self) -> str:
        """The x-fusion-route value if the first choice serves."""
        return self.header_for()

    def header_for(self, served_by: str | None = None,
                   extra_reason: RouteReason | ReasonPart | str | None = None) -> str:
        """The x-fusion-route value once `served_by` is known (`extra_reason`: what the
        turn added to the plan's reasons: failover, the council's outcome, ...)."""
        reason = self.reason.plus(extra_reason) if extra_reason else self.reason
        return format_route(self.mode, self.tier, served_by or self.upstream_id,
                            actor=self.actor, council=self.council, panel=self.panel,
                            scores=self.scores, reason=reason,
                            effort=self.efforts.get(served_by or self.upstream_id))


class PinTable:
    """Session -> actor pins, bounded: the least recently used session is forgotten first."""

    def __init__(self, max_sessions: int = 10_000) -> None:
        self.max_sessions = max_sessions
        self._pins: OrderedDict[str, str] = OrderedDict()

    def get(self, session_id: str) -> str | None:
        """The pinned actor, refreshing the session's recency."""
        actor = self._pins.get(session_id)
        if actor is not None:
            self._pins.move_to_end(session_id)
        return actor

    def pin(self, session_id: str, actor: str) -> str | None:
        """Pin; returns the previous actor (None if new)."""
        previous = self._pins.get(session_id)
        self._pins[session_id] = actor
        self._pins.move_to_end(session_id)
        while len(self._pins) > self.max_sessions:
            self._pins.popitem(last=False)
        return previous

    def unpin(self, session_id: str) -> None:
        """Forget a session's pin."""
        self._pins.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._pins)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._pins


class Router:
    """Turns a request's facts into a RoutePlan.

    single: the first actor serves everything (a forced tier is noted, and a plan tool turn
    still convenes the council). smart: the gate's tier picks the pool; requests with tools
    always go to the session's pinned actor; tool-free plan requests go to the panel.
    all: every tool-free request goes to the panel. Tools never reach a panel.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pins = PinTable(settings.routing.affinity_max_sessions)
        self.regular_pins = PinTable(settings.routing.affinity_max_sessions)
        """Session -> its member of the regular pool (`routing.switch.sticky_regular`)."""
        self._round_robin = itertools.count()

    @property
    def mode(self) -> RoutingMode:
        """The configured routing mode."""
        return self.settings.routing.mode

    def needs_gate(self, overrides: Overrides) -> bool:
        """Whether the gate must judge the request before `plan` (smart mode, no tier forced)."""
        mode = self._effective_mode(overrides)
        return mode == "smart" and overrides.tier is None

    def _effective_mode(self, overrides: Overrides) -> str:
        if overrides.depth > 0:
            return "single"
        return overrides.mode or self.mode

    def actor_order(self, session_id: str) -> list[str]:
        """The actor pool, the session's pinned actor first. A pin outside the pool (a person
        swapped the actor to another configured upstream) still comes first, the pool after
        it for failover; a pin to an upstream no longer configured is ignored."""
        pool = list(self.settings.pools.actor)
        pinned = self.pins.get(session_id) if session_id else None
        if pinned is None:
            return pool
        if pinned in pool:
            pool.remove(pinned)
        elif not any(u.id == pinned for u in self.settings.upstreams):
            return pool
        pool.insert(0, pinned)
        return pool

    def _regular_order(self, session_id: str) -> list[str]:
        """The regular pool in the order this session tries it: its sticky member first
        (picked round-robin on its first regular turn), else the round-robin start."""
        pool = list(self.settings.pools.regular)
        sticky = self.settings.routing.switch.sticky_regular and session_id
        member = self.regular_pins.get(session_id) if sticky else None
        if member not in pool:
            member = pool[next(self._round_robin) % len(pool)]
            if sticky:
                self.regular_pins.pin(session_id, member)
        start = pool.index(member)
        return pool[start:] + pool[:start]

    def choose(self, session_id: str = "", has_tools: bool = False,
               overrides: Overrides | None = None,
               verdict: GateVerdict | None = None) -> RoutePlan:
        """The plan for one request."""
        overrides = overrides or Overrides()
        mode = self._effective_mode(overrides)
        reasons = RouteReason()
        if overrides.depth > 0:
            reasons.add(ReasonPart("depth_guard", str(overrides.depth)))
        elif overrides.source:
            reasons.add(ReasonPart("override", overrides.source))
        actors = self.actor_order(session_id)
        if mode == "single":
            return RoutePlan("single", overrides.tier, actors, reasons)
        tier = overrides.tier or (verdict.tier if verdict else None)
        scores = verdict.scores if verdict and not overrides.tier else None
        if verdict and not overrides.tier:
            reasons.add(verdict.reason)
        pools = self.settings.pools
        if has_tools:
            reasons.add(ReasonPart("tools", "actor"))
            return RoutePlan(mode, tier, actors, reasons, scores, actor=actors[0])
        panel = list(overrides.panel) or list(pools.panel)
        if panel and (mode == "all" or tier == "plan"):
            return RoutePlan(mode, tier or Tier.PLAN, actors, reasons, scores,
                             panel=panel)
        if tier == "compact" and pools.compact:
            return RoutePlan(mode, tier, list(pools.compact), reasons, scores)
        if tier == "regular" and pools.regular:
            return RoutePlan(mode, tier, self._regular_order(session_id), reasons, scores)
        return RoutePlan(mode, tier, actors, reasons, scores, actor=actors[0])
