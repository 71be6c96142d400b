"""Stay or switch, priced: keep a session on the model that holds its prompt cache unless
moving is cheaper.

When a turn's tier would move a session to another model, the cached prefix of its last
turn would be sent again at the new model's full input price, while staying reads it from
the cache. `price_switch` prices both for the turn (the prefix, the new input, an answer as
long as the last one) and `settle` keeps the session where it is when staying costs no more
and the current model serves the same tier or a higher one (`stay:cache`); otherwise the
switch stands and is said (`switch:cheaper`). Tool turns never come here: they stay on the
session's pinned actor anyway. Sans-IO.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fusion_tui.config import Settings
from fusion_tui.config.tiers import TIER_RANK, Tier
from fusion_tui.routing.explain import ReasonPart
from fusion_tui.routing.prices import Pricing, upstream_price, usage_cost
from fusion_tui.routing.router import RoutePlan


@dataclass(frozen=True)
class LastTurn:
    """What a session's latest answered turn left behind."""

    upstream_id: str
    prompt_tokens: int
    """Input tokens of the turn, cached ones included."""
    cached_tokens: int
    """Tokens of the prompt held in that model's cache after the turn (read + written)."""
    output_tokens: int


class LastTurns:
    """Session -> its latest turn, bounded (least recently used forgotten first)."""

    def __init__(self, max_sessions: int = 10_000) -> None:
        self.max_sessions = max_sessions
        self._turns: OrderedDict[str, LastTurn] = OrderedDict()

    def get(self, session_id: str) -> LastTurn | None:
        """The session's latest turn, if one was answered."""
        return self._turns.get(session_id)

    def record(self, session_id: str, upstream_id: str, usage: Mapping[str, Any]) -> LastTurn:
        """Remember a turn's usage (Anthropic field names)."""
        read = int(usage.get("cache_read_input_tokens") or 0)
        written = int(usage.get("cache_creation_input_tokens") or 0)
        turn = LastTurn(upstream_id, int(usage.get("input_tokens") or 0) + read + written,
                        read + written, int(usage.get("output_tokens") or 0))
        self._turns[session_id] = turn
        self._turns.move_to_end(session_id)
        while len(self._turns) > self.max_sessions:
            self._turns.popitem(last=False)
        return turn


@dataclass(frozen=True)
class SwitchPrice:
    """A turn priced on the current model (cache warm) and on the target (cache cold)."""

    stay_usd: float
    switch_usd: float
    cached_tokens: int

    @property
    def stay(self) -> bool:
        """Staying costs no more than switching."""
        return self.stay_usd <= self.switch_usd


def price_switch(last: LastTurn, prompt_tokens: int, current: Pricing,
                 target: Pricing) -> SwitchPrice:
    """Price the turn both ways: on `current` the cached prefix is read from the cache and
    the rest is fresh input; on `target` the whole prompt is fresh input. The answer is
    assumed as long as the last one."""
    prompt = max(prompt_tokens, last.prompt_tokens)
    prefix = min(last.cached_tokens, prompt)
    fresh = prompt - prefix
    stay = usage_cost({"cache_read_input_tokens": prefix, "input_tokens": fresh,
                       "output_tokens": last.output_tokens}, current)
    switch = usage_cost({"input_tokens": prompt, "output_tokens": last.output_tokens}, target)
    return SwitchPrice(stay, switch, prefix)


def model_rank(settings: Settings, upstream_id: str) -> int:
    """The highest tier an upstream serves: compact pool 0, regular pool 1, actor 2."""
    pools = settings.pools
    ranks = [rank for rank, pool in ((2, pools.actor), (1, pools.regular), (0, pools.compact))
             if upstream_id in pool]
    return max(ranks, default=-1)


def settle(settings: Settings, plan: RoutePlan, last: LastTurn | None,
           prompt_tokens: Callable[[], int]) -> SwitchPrice | None:
    """Keep a tool-free compact/regular turn on the session's last model when that is
    cheaper (the plan's candidates reordered, `stay:cache` added); say `switch:cheaper`
    when the move was priced and stands. Returns the pricing, None when nothing was priced
    (no previous turn, same model, a panel, a tier above the current model's, or a price
    unknown). `prompt_tokens` estimates the request's input; it is asked only when
    pricing."""
    if (not settings.routing.switch.price_switches or last is None or plan.panel
            or plan.tier not in (Tier.COMPACT, Tier.REGULAR) or plan.actor is not None
            or not plan.candidates or plan.upstream_id == last.upstream_id
            or model_rank(settings, last.upstream_id) < TIER_RANK[plan.tier]):
        return None
    current = upstream_price(settings, last.upstream_id)
    target = upstream_price(settings, plan.upstream_id)
    if current is None or target is None:
        return None
    priced = price_switch(last, prompt_tokens(), current, target)
    if priced.stay:
        plan.candidates = [last.upstream_id,
                           *(c for c in plan.candidates if c != last.upstream_id)]
        plan.reason.add(ReasonPart("stay", "cache"))
    else:
        plan.reason.add(ReasonPart("switch", "cheaper"))
    return priced
