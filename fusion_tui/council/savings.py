"""Savings you can see: per session and in total, the cost as routed, the cost had every
turn gone to the baseline model, the difference, the cache hit rate (cache-read tokens over
all input tokens) per session and per upstream, and the share of turns per tier.

`SpendLedger.apply` folds `TurnPriced` and `CostRecorded` events, so the live proxy and a
recording read back (sessions/store.py) compute the same figures the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fusion_tui.events import CostRecorded, Event, TurnPriced


@dataclass
class CacheCounts:
    """Input tokens (cached ones included) and how many of them were read from a cache."""

    input_tokens: int = 0
    cache_read_tokens: int = 0

    def add(self, input_tokens: int, cache_read_tokens: int) -> None:
        """Count one call."""
        self.input_tokens += input_tokens
        self.cache_read_tokens += cache_read_tokens

    @property
    def hit_rate(self) -> float | None:
        """Cache-read tokens over input tokens (None before any input)."""
        return self.cache_read_tokens / self.input_tokens if self.input_tokens else None


@dataclass
class SpendTotals:
    """The money and cache figures of a session, or of all of them."""

    turns: int = 0
    cost_usd: float = 0.0
    baseline_usd: float = 0.0
    priced_turns: int = 0
    """Turns whose baseline has a price (the saving is over these)."""
    priced_cost_usd: float = 0.0
    tiers: Counter[str] = field(default_factory=Counter)
    cache: CacheCounts = field(default_factory=CacheCounts)

    def add(self, event: TurnPriced) -> None:
        """Count one priced turn."""
        self.turns += 1
        self.cost_usd += event.cost_usd
        self.tiers[event.tier or "-"] += 1
        self.cache.add(event.input_tokens, event.cache_read_tokens)
        if event.baseline_usd is not None:
            self.priced_turns += 1
            self.baseline_usd += event.baseline_usd
            self.priced_cost_usd += event.cost_usd

    @property
    def saved_usd(self) -> float | None:
        """Baseline minus routed cost over the turns the baseline prices (None: none)."""
        return self.baseline_usd - self.priced_cost_usd if self.priced_turns else None

    @property
    def tier_shares(self) -> dict[str, float]:
        """Each tier's share of the turns."""
        return {tier: n / self.turns for tier, n in sorted(self.tiers.items())} \
            if self.turns else {}

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (money rounded to nano-dollars)."""
        saved = self.saved_usd
        rate = self.cache.hit_rate
        return {"turns": self.turns, "cost_usd": round(self.cost_usd, 9),
                "baseline_usd": round(self.baseline_usd, 9) if self.priced_turns else None,
                "saved_usd": round(saved, 9) if saved is not None else None,
                "priced_turns": self.priced_turns,
                "cache_hit_rate": round(rate, 4) if rate is not None else None,
                "input_tokens": self.cache.input_tokens,
                "cache_read_tokens": self.cache.cache_read_tokens,
                "tier_shares": {k: round(v, 4) for k, v in self.tier_shares.items()}}


class SpendLedger:
    """Per session and in total: routed cost, baseline, saving, cache hit rates, tiers."""

    def __init__(self) -> None:
        self.sessions: dict[str, SpendTotals] = {}
        self.total = SpendTotals()
        self.upstream_cache: dict[str, CacheCounts] = {}

    def apply(self, event: Event) -> None:
        """Fold one event in (others are ignored)."""
        if isinstance(event, TurnPriced):
            self.sessions.setdefault(event.session_id, SpendTotals()).add(event)
            self.total.add(event)
        elif isinstance(event, CostRecorded):
            counts = self.upstream_cache.setdefault(event.upstream_id, CacheCounts())
            counts.add(event.input_tokens + event.cache_read_tokens + event.cache_write_tokens,
                       event.cache_read_tokens)

    def as_dict(self) -> dict[str, Any]:
        """The whole ledger as plain data (`GET /fusion/sessions`)."""
        return {"total": self.total.as_dict(),
                "upstreams": {uid: {"cache_hit_rate": (round(c.hit_rate, 4)
                                                       if c.hit_rate is not None else None),
                                    "input_tokens": c.input_tokens,
                                    "cache_read_tokens": c.cache_read_tokens}
                              for uid, c in sorted(self.upstream_cache.items())},
                "sessions": {sid: totals.as_dict() for sid, totals in self.sessions.items()}}
