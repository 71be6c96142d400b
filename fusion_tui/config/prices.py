"""What an upstream call costs: the config's `price` when the upstream has one, else the
maintained `genai-prices` table (pydantic's package of model prices, updated with each of its
releases; it prices cache reads and writes and the long-context tiers per call), else unknown.

Unknown is not $0: a call with no price is recorded as unpriced and shown as "price unknown".
Simulated upstreams and servers on this machine (a loopback base_url) bill nothing and are
priced at $0 for real.
"""

from __future__ import annotations

import ipaddress
import logging
import urllib.parse
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fusion_tui.config.council import Price
from fusion_tui.config.settings import DEFAULT_BASE_URLS, UpstreamSettings

log = logging.getLogger(__name__)

MILLION = 1_000_000

# genai-prices' provider ids for the upstream types whose provider is fixed.
# codex is a ChatGPT subscription, not billed per token: it has no table price.
_PROVIDER_OF_TYPE = {"anthropic": "anthropic", "openai": "openai", "openai-responses": "openai"}

FREE = Price()
"""A call that bills nothing (simulated models, a server on this machine)."""


@dataclass(frozen=True)
class TablePrice:
    """A model found in the genai-prices table; priced per call, so tiers apply."""

    model: str
    provider_id: str | None = None
    provider_api_url: str | None = None

    def cost(self, usage: Mapping[str, Any]) -> float:
        """Dollars for one call's usage (Anthropic field names: input_tokens excludes the
        cached ones, which genai-prices counts inside its input_tokens)."""
        from genai_prices import Usage, calc_price

        fresh = int(usage.get("input_tokens") or 0)
        read = int(usage.get("cache_read_input_tokens") or 0)
        write = int(usage.get("cache_creation_input_tokens") or 0)
        counted = Usage(input_tokens=fresh + read + write, cache_read_tokens=read,
                        cache_write_tokens=write,
                        output_tokens=int(usage.get("output_tokens") or 0))
        if self.provider_id is not None:
            found = calc_price(counted, self.model, provider_id=self.provider_id)
        else:
            found = calc_price(counted, self.model, provider_api_url=self.provider_api_url)
        return float(found.total_price)


Pricing = Price | TablePrice
"""A configured price (per million tokens) or a table entry."""


def _local(base_url: str | None) -> bool:
    host = urllib.parse.urlsplit(base_url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def price_for(upstream: UpstreamSettings) -> Pricing | None:
    """The upstream's configured price, else $0 for a simulated or local one, else its
    model's entry in the genai-prices table, else None (price unknown)."""
    if upstream.price is not None:
        return upstream.price
    base_url = upstream.base_url or DEFAULT_BASE_URLS.get(upstream.type)
    if upstream.type == "simulated" or _local(base_url):
        return FREE
    if upstream.type == "codex":
        return None
    provider = _PROVIDER_OF_TYPE.get(upstream.type)
    entry = (TablePrice(upstream.model, provider_id=provider) if provider
             else TablePrice(upstream.model, provider_api_url=base_url))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entry.cost({"input_tokens": 1})
    except LookupError:
        log.info("no price for upstream %s (model %s): its cost shows as unknown",
                 upstream.id, upstream.model)
        return None
    return entry


def prices_for(upstreams: Iterable[UpstreamSettings]) -> dict[str, Pricing | None]:
    """`price_for` of each upstream, by id."""
    return {u.id: price_for(u) for u in upstreams}


def usage_cost(usage: Mapping[str, Any], price: Pricing) -> float:
    """Dollars for one call's usage at `price`."""
    if isinstance(price, TablePrice):
        return price.cost(usage)
    return (int(usage.get("input_tokens") or 0) * price.input
            + int(usage.get("output_tokens") or 0) * price.output
            + int(usage.get("cache_read_input_tokens") or 0) * price.cache_read
            + int(usage.get("cache_creation_input_tokens") or 0) * price.cache_write) / MILLION
