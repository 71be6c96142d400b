"""Budgets that act: a session budget and a daily one (local calendar day). Near a limit
(`budget.near` of it) the council stops convening and the route says `budget:session` or
`budget:daily`; at the limit a request is refused with an error in the client's protocol.
Spending is counted from every `CostRecorded` (council and actor alike)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fusion_tui.config.spend import BudgetSettings
from fusion_tui.events import CostRecorded, Event
from fusion_tui.events.spend import BudgetScope, BudgetState

__all__ = ["BUDGET_STATUS", "BudgetCheck", "BudgetScope", "BudgetState", "Budgets"]

BUDGET_STATUS = 402
"""The HTTP status of a request refused because a budget is spent (Payment Required: the
SDKs do not retry it, unlike 429)."""


@dataclass(frozen=True)
class BudgetCheck:
    """A budget that acts: which one, how far, and the figures."""

    budget: BudgetScope
    state: BudgetState
    spent_usd: float
    limit_usd: float

    @property
    def message(self) -> str:
        """The words a refused client reads."""
        return (f"fusion-tui {self.budget} budget spent: ${self.spent_usd:.4f} of "
                f"${self.limit_usd:.4f} (budget.{self.budget}_usd); no further requests "
                + ("in this session" if self.budget == BudgetScope.SESSION else "today"))


class Budgets:
    """Spending per session and per day, checked against `budget.*`."""

    def __init__(self, settings: BudgetSettings,
                 today: Callable[[], str] = lambda: time.strftime("%Y-%m-%d")) -> None:
        self.settings = settings
        self.today = today
        self.sessions: dict[str, float] = {}
        self.day = today()
        self.day_usd = 0.0

    def apply(self, event: Event) -> None:
        """Count a recorded cost."""
        if isinstance(event, CostRecorded):
            self.sessions[event.session_id] = (self.sessions.get(event.session_id, 0.0)
                                               + event.cost_usd)
            self._roll()
            self.day_usd += event.cost_usd

    def _roll(self) -> None:
        today = self.today()
        if today != self.day:
            self.day, self.day_usd = today, 0.0

    def check(self, session_id: str) -> BudgetCheck | None:
        """The most pressing budget for this session: spent before near, session before
        daily; None when neither is near."""
        self._roll()
        found: list[BudgetCheck] = []
        for name, spent, limit in (
                (BudgetScope.SESSION, self.sessions.get(session_id, 0.0),
                 self.settings.session_usd),
                (BudgetScope.DAILY, self.day_usd, self.settings.daily_usd)):
            if limit is None:
                continue
            if spent >= limit:
                found.append(BudgetCheck(name, BudgetState.SPENT, spent, limit))
            elif spent >= limit * self.settings.near:
                found.append(BudgetCheck(name, BudgetState.NEAR, spent, limit))
        found.sort(key=lambda c: c.state != BudgetState.SPENT)
        return found[0] if found else None
