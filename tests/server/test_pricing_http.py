"""x-fusion-cost through the official SDK: dollars for a priced upstream, "unknown" (never
0) for one whose model has no price."""

from __future__ import annotations

import anthropic

from fusion_tui.config.council import Price

BODY = {"model": "fusion", "max_tokens": 50,
        "messages": [{"role": "user", "content": "explain recursion"}]}


async def _cost_header(runtime: object) -> str:
    address = runtime.address  # type: ignore[attr-defined]
    async with anthropic.AsyncAnthropic(base_url=address, api_key="t", max_retries=0) as sdk:
        raw = await sdk.messages.with_raw_response.create(**BODY)  # type: ignore[arg-type]
        assert raw.http_response.status_code == 200
        return raw.headers["x-fusion-cost"]


async def test_cost_header_is_dollars_when_priced(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    runtime.state.costs.prices["sim"] = Price(input=3, output=15)
    assert float(await _cost_header(runtime)) > 0


async def test_cost_header_says_unknown_when_the_model_has_no_price(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    # As for a remote upstream whose model is in no price table (tests/unit/test_pricing.py).
    runtime.state.costs.prices["sim"] = None
    assert await _cost_header(runtime) == "unknown"
