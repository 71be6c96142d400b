"""The one place the spending rules (stay-or-switch, savings, budgets) look prices up.

Prices come from `config/prices.py`: the upstream's configured `price`, else $0 for a
simulated or local upstream, else the genai-prices table for its model, else unknown (None).
A baseline model that no upstream serves (the model the client asked for) is looked up in the
table by name.
"""

from __future__ import annotations

import warnings

from fusion_tui.config import Settings
from fusion_tui.config.prices import Pricing, TablePrice, price_for, usage_cost

__all__ = ["Pricing", "model_price", "upstream_price", "usage_cost"]


def upstream_price(settings: Settings, upstream_id: str) -> Pricing | None:
    """The price of one upstream's calls (None: unknown)."""
    try:
        return price_for(settings.upstream(upstream_id))
    except KeyError:
        return None


def model_price(settings: Settings, model: str) -> tuple[str, Pricing | None]:
    """The price of a model by name (or upstream id): the first upstream serving it, else the
    price table's entry for that name. Returns the name it was priced as and the price (None:
    nothing prices it)."""
    for upstream in settings.upstreams:
        if model in (upstream.model, upstream.id):
            return upstream.model, upstream_price(settings, upstream.id)
    entry = TablePrice(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entry.cost({"input_tokens": 1})
    except LookupError:
        return model, None
    return model, entry
