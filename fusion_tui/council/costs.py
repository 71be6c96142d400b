"""Money: usage times price per upstream, session totals, the council budget."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fusion_tui.config.prices import Pricing, usage_cost
from fusion_tui.events import Event
from fusion_tui.events.council import CostRecorded, CostStage

MILLION = 1_000_000


def cost_of(usage: Mapping[str, Any], price: Pricing | None) -> float:
    """Dollars for one call's usage (Anthropic usage field names; OpenAI's are translated to
    these before they get here); 0.0 with no price, which callers mark as unpriced."""
    return 0.0 if price is None else usage_cost(usage, price)


class CostBook:
    """Records every call's cost with its stage, keeps per-session and per-request totals."""

    def __init__(self, prices: Mapping[str, Pricing | None],
                 publish: Callable[[Event], None]) -> None:
        self.prices = prices
        self.unpriced_requests: set[str] = set()
        self.publish = publish
        self.sessions: dict[str, float] = {}
        self.council_spend: dict[str, float] = {}
        self.requests: dict[str, float] = {}

    def record(self, session_id: str, request_id: str, upstream_id: str, stage: CostStage | str,
               usage: Mapping[str, Any]) -> float:
        """Record one call (`stage` a CostStage or its value); returns its cost."""
        if not isinstance(stage, CostStage):
            stage = CostStage(stage)
        price = self.prices.get(upstream_id)
        cost = cost_of(usage, price)
        if price is None:
            self.unpriced_requests.add(request_id)
        total = self.sessions.get(session_id, 0.0) + cost
        self.sessions[session_id] = total
        self.requests[request_id] = self.requests.get(request_id, 0.0) + cost
        if stage.council:
            self.council_spend[session_id] = self.council_spend.get(session_id, 0.0) + cost
        self.publish(CostRecorded(
            session_id=session_id, request_id=request_id, upstream_id=upstream_id, stage=stage,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
            cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0),
            cost_usd=cost, session_total_usd=total, priced=price is not None))
        return cost

    def request_total(self, request_id: str, forget: bool = False) -> float:
        """Dollars spent on one request so far (forget: drop it after reading)."""
        total = self.requests.get(request_id, 0.0)
        if forget:
            self.requests.pop(request_id, None)
            self.unpriced_requests.discard(request_id)
        return total

    def request_priced(self, request_id: str) -> bool:
        """False when a call of this request had no price (its cost is unknown, not $0)."""
        return request_id not in self.unpriced_requests

    def budget_left(self, session_id: str, budget_usd: float | None) -> bool:
        """Whether the session's council spending is still under its budget."""
        if budget_usd is None:
            return True
        return self.council_spend.get(session_id, 0.0) < budget_usd

    @property
    def total(self) -> float:
        """Dollars spent in this process."""
        return sum(self.sessions.values())
