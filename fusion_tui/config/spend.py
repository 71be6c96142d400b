"""Settings of the spending rules: effort per tier, priced stay-or-switch, escalation on
failing tool results, the savings baseline and the budgets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fusion_tui.config.tiers import Tier

EffortLevel = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class SwitchSettings(_Strict):
    """Keeping a session on one model so its prompt cache survives."""

    sticky_regular: bool = True
    """Tool-free regular turns of a session stay on one member of the regular pool (picked
    round-robin on the session's first such turn) instead of round-robin per request."""
    price_switches: bool = True
    """When a turn's tier would move a session to another model, price the switch (the
    cached prefix re-sent at full price there) against staying, and stay when staying is
    cheaper and the current model is of the same tier or higher (reason `stay:cache`)."""


class EscalationSettings(_Strict):
    """Raising the tier after a run of failing tool results."""

    enabled: bool = True
    """Escalate at all."""
    after_failures: int = Field(3, ge=1)
    """Failing tool results in a row (the latest ones) that raise the next turn's tier."""
    steps: int = Field(1, ge=1, le=2)
    """Tiers to go up by (compact -> regular -> plan)."""
    lookback: int = Field(12, ge=1)
    """Latest tool results read from the conversation."""


class SavingsSettings(_Strict):
    """What the routed cost is compared with."""

    baseline: str | None = None
    """Upstream id whose price every request is priced at for the comparison; null: the
    model the client asked for (priced when an upstream with that model has a price)."""


class BudgetSettings(_Strict):
    """Spending limits that act: near one the council stops convening, at one requests get
    an error in the client's protocol."""

    session_usd: float | None = Field(None, gt=0)
    """Dollars one session may spend (null: no limit)."""
    daily_usd: float | None = Field(None, gt=0)
    """Dollars this process may spend per local calendar day (null: no limit)."""
    near: float = Field(0.8, gt=0, le=1)
    """Fraction of a budget from which the council no longer convenes."""


EffortTable = dict[Tier, EffortLevel]
