"""Events of the spending rules: a turn's cost against its baseline, an escalation, a
budget that acted."""

from __future__ import annotations

from dataclasses import dataclass

from fusion_tui.events.model import Event


@dataclass(frozen=True, kw_only=True)
class TurnPriced(Event):
    """A finished turn's money: what it cost as routed (council included) and what the
    actor's usage would have cost at the baseline model (None: the baseline has no price).
    Token counts are the actor's; `input_tokens` counts cached ones too."""

    tier: str
    upstream_id: str
    cost_usd: float
    baseline_model: str
    baseline_usd: float | None
    input_tokens: int = 0
    cache_read_tokens: int = 0
    effort: str | None = None


@dataclass(frozen=True, kw_only=True)
class TierEscalated(Event):
    """Failing tool results raised a turn's tier (`vetoed`: a person's tier key kept
    another tier)."""

    from_tier: str
    to_tier: str
    failures: int
    vetoed: bool = False


@dataclass(frozen=True, kw_only=True)
class BudgetReached(Event):
    """A budget acted: `near` stopped the council, `spent` refused the request."""

    budget: str
    """session or daily"""
    state: str
    """near or spent"""
    spent_usd: float
    limit_usd: float
