"""A real model behind the proxy: Qwen2.5-Coder-0.5B served by llama.cpp, as an
`openai-compatible` and as an `anthropic` upstream; a streamed tool call through both client
surfaces with the official SDKs (so translation runs in both directions), and a council whose
advisors and judge are the real model. Prompts are tiny: on 2 CPU cores the model reads about
100 prompt tokens a second."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

pytestmark = pytest.mark.realmodel

WEATHER_ANTHROPIC = {"name": "get_weather", "description": "Current weather in a city",
                     "input_schema": {"type": "object",
                                      "properties": {"city": {"type": "string"}},
                                      "required": ["city"]}}
WEATHER_OPENAI = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": WEATHER_ANTHROPIC["input_schema"]}}
ASK = "What is the weather in Paris right now?"


def upstream(kind: str, url: str, uid: str = "qwen") -> dict[str, Any]:
    base = f"{url}/v1" if kind == "openai-compatible" else url
    return {"id": uid, "type": kind, "base_url": base, "model": "qwen2.5-coder-0.5b",
            "timeout_s": 240}


def stream_tool_call_anthropic(address: str) -> dict[str, Any]:
    client = anthropic.Anthropic(base_url=address, api_key="test", max_retries=0,
                                 timeout=300)
    with client.messages.stream(model="qwen", max_tokens=64, tools=[WEATHER_ANTHROPIC],
                                messages=[{"role": "user", "content": ASK}]) as stream:
        kinds = [event.type for event in stream]
        message = stream.get_final_message()
    assert "content_block_start" in kinds and "message_stop" in kinds
    assert message.stop_reason == "tool_use", message
    calls = [b for b in message.content if b.type == "tool_use"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    return dict(calls[0].input)  # type: ignore[arg-type]


def stream_tool_call_openai(address: str) -> dict[str, Any]:
    client = openai.OpenAI(base_url=f"{address}/v1", api_key="test", max_retries=0,
                           timeout=300)
    stream = client.chat.completions.create(
        model="qwen", max_tokens=64, tools=[WEATHER_OPENAI], stream=True,
        messages=[{"role": "user", "content": ASK}])
    name, arguments, finish = "", "", None
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        for call in choice.delta.tool_calls or []:
            name += call.function.name or "" if call.function else ""
            arguments += call.function.arguments or "" if call.function else ""
        finish = choice.finish_reason or finish
    assert finish == "tool_calls"
    assert name == "get_weather"
    return dict(json.loads(arguments))


@pytest.mark.parametrize("kind", ["openai-compatible", "anthropic"])
async def test_streamed_tool_call_through_both_surfaces(kind: str, llama_url: str,
                                                        make_settings, start_proxy):
    settings = make_settings(upstreams=[upstream(kind, llama_url)],
                             pools={"actor": ["qwen"]}, routing={"mode": "single"})
    runtime = await start_proxy(settings)
    import asyncio

    from_anthropic = await asyncio.to_thread(stream_tool_call_anthropic, runtime.address)
    from_openai = await asyncio.to_thread(stream_tool_call_openai, runtime.address)
    for args in (from_anthropic, from_openai):
        assert "paris" in str(args.get("city", "")).lower(), args


async def test_council_of_real_advisors_and_judge(llama_url: str, make_settings, start_proxy):
    settings = make_settings(
        upstreams=[upstream("openai-compatible", llama_url, "qwen-actor"),
                   upstream("anthropic", llama_url, "qwen-advisor"),
                   upstream("openai-compatible", llama_url, "qwen-judge")],
        pools={"actor": ["qwen-actor"], "council": ["qwen-advisor"], "judge": ["qwen-judge"]},
        routing={"mode": "single"},
        council={"trigger": "always", "deadline_s": 240, "advisor_max_tokens": 48,
                 "judge_max_tokens": 64, "ping_interval_s": 1})
    runtime = await start_proxy(settings)
    import asyncio

    client = anthropic.AsyncAnthropic(base_url=runtime.address, api_key="test",
                                      max_retries=0, timeout=600)
    message = await client.messages.create(
        model="qwen", max_tokens=64, tools=[WEATHER_ANTHROPIC],
        messages=[{"role": "user", "content": ASK}],
        extra_headers={"x-fusion-session": "realmodel-council"})
    await asyncio.sleep(0.2)
    path = settings.sessions.path / "realmodel-council.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    kinds = [e["kind"] for e in events]
    assert kinds.count("council_convened") == 1
    opinions = [e for e in events if e["kind"] == "advisor_finished"]
    assert [o["advisor"] for o in opinions] == ["qwen-advisor"]
    assert opinions[0]["state"] == "ok" and opinions[0]["text"].strip(), opinions
    assert opinions[0]["output_tokens"] > 0
    briefing = [e for e in events if e["kind"] == "briefing_ready"]
    assert len(briefing) == 1 and briefing[0]["judge"] == "qwen-judge"
    assert briefing[0]["synthesized"] is True and briefing[0]["text"].strip()
    stages = {e["stage"] for e in events if e["kind"] == "cost_recorded"}
    assert {"advisor", "judge"} <= stages
    assert message.stop_reason in ("tool_use", "end_turn", "max_tokens")
    assert message.content, message
