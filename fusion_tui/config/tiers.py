"""The tiers a request can be routed at and the routing modes: the one definition every
layer uses (the gate's labels, the router's pools, the steering keys, the dashboard)."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """How hard a request is, easiest first: who answers it follows from this."""

    COMPACT = "compact"
    REGULAR = "regular"
    PLAN = "plan"


TIERS: tuple[str, ...] = tuple(tier.value for tier in Tier)
"""The tier names, easiest first (the gate's label order)."""
TIER_RANK: dict[str, int] = {tier: rank for rank, tier in enumerate(TIERS)}
"""A tier's place in the order (compact 0 ... plan 2)."""


class RoutingMode(StrEnum):
    """single: the first actor serves everything; smart: the gate picks the tier's pool;
    all: every tool-free request goes to the panel."""

    SINGLE = "single"
    SMART = "smart"
    ALL = "all"


MODES: tuple[str, ...] = tuple(mode.value for mode in RoutingMode)
"""The routing mode names."""
