"""The one place the spending rules (stay-or-switch, savings, budgets) look prices up.

Today a price is the upstream's configured `price` (null: free), the same path as
council/costs.py. When the price table lands (fusion_tui/pricing.py), point `Pricing`,
`upstream_price` and `usage_cost` at `pricing.Pricing`, `pricing.price_for` and
`pricing.usage_cost`: every rule prices through these three names only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fusion_tui.config import Settings
from fusion_tui.config.council import Price

MILLION = 1_000_000

Pricing = Price
"""What `upstream_price` returns and `usage_cost` takes."""


def upstream_price(settings: Settings, upstream_id: str) -> Pricing | None:
    """The price of one upstream's calls (None: unknown or not configured)."""
    try:
        return settings.upstream(upstream_id).price
    except KeyError:
        return None


def model_price(settings: Settings, model: str) -> tuple[str, Pricing | None]:
    """The price of a model by name (or upstream id): the first upstream serving it.
    Returns the name it was priced as and the price (None: no upstream prices it)."""
    for upstream in settings.upstreams:
        if model in (upstream.model, upstream.id):
            return upstream.model, upstream_price(settings, upstream.id)
    return model, None


def usage_cost(usage: Mapping[str, Any], price: Pricing) -> float:
    """Dollars for one call's usage at `price` (Anthropic usage field names)."""
    return (int(usage.get("input_tokens") or 0) * price.input
            + int(usage.get("output_tokens") or 0) * price.output
            + int(usage.get("cache_read_input_tokens") or 0) * price.cache_read
            + int(usage.get("cache_creation_input_tokens") or 0) * price.cache_write) / MILLION
