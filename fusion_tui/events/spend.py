"""Events of the spending rules: a turn's cost against its baseline, an escalation, a
budget that acted, and the closed sets a budget event carries (`BudgetScope`,
`BudgetState`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fusion_tui.events.model import Event


class BudgetScope(StrEnum):
    """Which budget: `budget.session_usd` or `budget.daily_usd` (a local calendar day)."""

    SESSION = "session"
    DAILY = "daily"


class BudgetState(StrEnum):
    """Where spending stands against a limit."""

    NEAR = "near"
    """Past `budget.near` of it: councils stop convening."""
    SPENT = "spent"
    """At the limit: requests are refused."""


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

    budget: BudgetScope
    state: BudgetState
    spent_usd: float
    limit_usd: float
