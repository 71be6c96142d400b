"""Spending through the HTTP surfaces, with the official SDKs: effort reaches a real
Anthropic-protocol upstream, the savings show in GET /fusion/sessions, the recording and
`fusion-tui sessions`, and a spent budget is a 402 in each client's protocol."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
import yaml

from fusion_tui import cli
from tests.support.http import call

ASK = {"model": "model-big", "max_tokens": 50,
       "messages": [{"role": "user", "content": "plan the refactor"}]}


def upstreams(fake_base: str) -> list[dict[str, Any]]:
    return [{"id": "big", "type": "simulated", "model": "model-big",
             "price": {"input": 10, "output": 20, "cache_read": 1}},
            {"id": "cheap", "type": "anthropic", "model": "model-cheap", "base_url": fake_base,
             "price": {"input": 1, "output": 2, "cache_read": 0.1}}]


async def recorded_kinds(folder: Path, kind: str) -> str:
    """The recordings' text once `kind` was written (the recorder writes in batches)."""
    for _ in range(100):
        text = "".join(p.read_text() for p in folder.glob("*.jsonl"))
        if f'"kind":"{kind}"' in text.replace(" ", ""):
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} recorded in {folder}")


async def test_effort_savings_and_the_sessions_listing(make_settings, start_proxy, fake_anthropic,
                                                        tmp_path: Path, capsys) -> None:
    """The fake upstream reports 11 input, 7 output and 3 cache-read tokens.
    routed at cheap (1 / 2 / 0.1 per million): 11 + 14 + 0.3 = 25.3 micro-dollars;
    baseline model-big (10 / 20 / 1): 110 + 140 + 3 = 253; saved 227.7; cache 3 / 14."""
    fake, base = fake_anthropic
    sessions = tmp_path / "sessions"
    config = {"upstreams": upstreams(base), "pools": {"actor": ["cheap"]},
              "routing": {"effort": {"plan": "high"}}, "sessions": {"dir": str(sessions)}}
    runtime = await start_proxy(make_settings(**config))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="k",
                                        max_retries=0) as client:
        raw = await client.messages.with_raw_response.create(
            **ASK, extra_headers={"x-fusion-tier": "plan", "x-fusion-session": "s1"})
    route = raw.headers["x-fusion-route"]
    assert route.split("; ")[:4] == ["mode=single", "tier=plan", "served_by=cheap",
                                     "effort=high"]
    assert fake.requests[0].body["output_config"] == {"effort": "high"}
    listing = (await call(runtime.address, "GET", "/fusion/sessions")).json()
    s1 = listing["sessions"]["s1"]
    assert s1["cost_usd"] == 0.0000253 and s1["baseline_usd"] == 0.000253
    assert s1["saved_usd"] == 0.0002277 and s1["cache_hit_rate"] == round(3 / 14, 4)
    assert s1["tier_shares"] == {"plan": 1.0} and s1["budget"] == "ok"
    assert listing["upstreams"]["cheap"]["cache_hit_rate"] == round(3 / 14, 4)
    assert listing["total"]["saved_usd"] == 0.0002277
    assert listing["baseline"] == "client model"
    text = await recorded_kinds(sessions, "turn_priced")
    assert '"baseline_usd":0.000253' in text.replace(" ", "")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    assert cli.main(["sessions", "--json", "--config", str(config_file)]) == 0
    [summary] = __import__("json").loads(capsys.readouterr().out)
    assert (summary["saved_usd"], summary["cache_hit_rate"]) == (0.0002277, round(3 / 14, 4))
    assert cli.main(["sessions", "--config", str(config_file)]) == 0
    table = capsys.readouterr().out
    assert "saved $" in table and "0.0002" in table and "21%" in table and "plan:100%" in table


@pytest.mark.parametrize("surface", ["anthropic", "openai"])
async def test_a_spent_session_budget_is_a_402_in_the_clients_protocol(
        surface: str, make_settings, start_proxy, fake_anthropic) -> None:
    fake, base = fake_anthropic
    runtime = await start_proxy(make_settings(
        upstreams=upstreams(base), pools={"actor": ["cheap"]},
        budget={"session_usd": 0.00002}))
    headers = {"x-fusion-session": "s1"}
    if surface == "anthropic":
        async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="k",
                                            max_retries=0) as client:
            await client.messages.create(**ASK, extra_headers=headers)  # 25.3 micro-dollars
            with pytest.raises(anthropic.APIStatusError) as refused:
                await client.messages.create(**ASK, extra_headers=headers)
        assert refused.value.status_code == 402
        assert refused.value.body["error"]["type"] == "billing_error"  # type: ignore[index]
    else:
        async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="k",
                                      max_retries=0) as client:
            await client.chat.completions.create(model="model-big", messages=[
                {"role": "user", "content": "plan the refactor"}], extra_headers=headers)
            with pytest.raises(openai.APIStatusError) as refused:
                await client.chat.completions.create(model="model-big", messages=[
                    {"role": "user", "content": "plan the refactor"}], extra_headers=headers)
        assert refused.value.status_code == 402
    assert "session budget spent" in str(refused.value)
    assert len(fake.requests) == 1
