"""Prices: the config's, else the genai-prices table (cache reads and writes priced), else
unknown, which is recorded as unpriced and never passed off as $0."""

from __future__ import annotations

import pytest

from fusion_tui.config import Settings
from fusion_tui.config.council import Price
from fusion_tui.config.prices import FREE, TablePrice, price_for, prices_for, usage_cost
from fusion_tui.config.settings import UpstreamSettings
from fusion_tui.council.costs import CostBook
from fusion_tui.events import Event
from fusion_tui.events.council import CostRecorded


def up(**fields: object) -> UpstreamSettings:
    return UpstreamSettings.model_validate({"id": "u", **fields})


def test_a_configured_price_wins_over_the_table() -> None:
    mine = Price(input=1, output=2)
    assert price_for(up(type="anthropic", model="claude-opus-4-5", price=mine)) is mine


def test_known_models_are_priced_from_the_table_with_cache_tokens() -> None:
    opus = price_for(up(type="anthropic", model="claude-opus-4-5"))
    assert isinstance(opus, TablePrice)
    fresh = usage_cost({"input_tokens": 100_000}, opus)
    read = usage_cost({"input_tokens": 0, "cache_read_input_tokens": 100_000}, opus)
    write = usage_cost({"input_tokens": 0, "cache_creation_input_tokens": 100_000}, opus)
    out = usage_cost({"output_tokens": 100_000}, opus)
    assert fresh > 0 and out > fresh  # output costs more than input for every Claude model
    assert 0 < read < fresh < write   # cache reads are discounted, writes carry a premium
    gpt = price_for(up(type="openai", model="gpt-5"))
    assert isinstance(gpt, TablePrice) and usage_cost({"input_tokens": 1000}, gpt) > 0
    routed = price_for(up(type="openai-compatible", base_url="https://openrouter.ai/api/v1",
                          model="openai/gpt-4o"))
    assert isinstance(routed, TablePrice) and routed.provider_api_url


def test_simulated_and_local_upstreams_cost_nothing_for_real() -> None:
    assert price_for(up(type="simulated", model="sim")) is FREE
    assert price_for(up(type="ollama", model="qwen2.5-coder:14b")) is FREE
    assert price_for(up(type="openai-compatible", base_url="http://127.0.0.1:8000",
                        model="anything")) is FREE


@pytest.mark.parametrize("fields", [
    {"type": "openai-compatible", "base_url": "https://llm.example.invalid/v1",
     "model": "my-private-model"},
    {"type": "anthropic", "model": "claude-from-the-future-9"},
    {"type": "codex", "model": "gpt-5-codex"},  # a subscription: no per-token price
])
def test_unknown_models_have_no_price(fields: dict[str, object]) -> None:
    assert price_for(up(**fields)) is None


def test_an_unpriced_call_is_recorded_as_unknown_not_free() -> None:
    events: list[Event] = []
    settings = Settings.model_validate({
        "upstreams": [{"id": "known", "type": "anthropic", "model": "claude-opus-4-5"},
                      {"id": "mystery", "type": "openai-compatible",
                       "base_url": "https://llm.example.invalid/v1", "model": "x"}],
        "pools": {"actor": ["known"]}})
    book = CostBook(prices_for(settings.upstreams), events.append)
    usage = {"input_tokens": 1000, "output_tokens": 1000}
    assert book.record("s", "r1", "known", "actor", usage) > 0
    assert book.request_priced("r1")
    book.record("s", "r2", "mystery", "advisor", usage)
    assert not book.request_priced("r2")
    recorded = [e for e in events if isinstance(e, CostRecorded)]
    assert [e.priced for e in recorded] == [True, False]
    book.request_total("r2", forget=True)
    assert book.request_priced("r2")  # forgotten with the request
