"""The openai-responses upstream against a local fake: pass-through for Responses clients
(model, store, limits, reasoning.effort), translation for Anthropic and Chat Completions
clients (streams, tool calls, reasoning, usage, errors)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest

from tests.support.fake_responses import FakeResponses, Turn, running
from tests.support.http import call


@pytest.fixture
async def fake_responses() -> AsyncIterator[tuple[FakeResponses, str]]:
    """A local Responses server: (its script and record, its base URL)."""
    fake = FakeResponses()
    async with running(fake) as base:
        yield fake, base


def upstream(base: str, **extra: Any) -> dict[str, Any]:
    return {"id": "resp", "type": "openai-responses", "base_url": base + "/v1",
            "model": "gpt-resp", "api_key_env": "FUSION_TEST_RESP_KEY", **extra}


async def test_responses_clients_pass_through(make_settings, start_proxy, fake_responses,
                                              monkeypatch):
    fake, base = fake_responses
    monkeypatch.setenv("FUSION_TEST_RESP_KEY", "sk-resp")
    runtime = await start_proxy(make_settings(upstreams=[upstream(
        base, max_output_tokens=100, reasoning_effort="high")]))
    body = {"model": "mine", "input": [{"role": "user", "content": "hi"}],
            "max_output_tokens": 5000, "reasoning": {"summary": "auto"},
            "prompt_cache_key": "abc", "extra_body": {"fusion_tier": "compact"}}
    async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t",
                                  max_retries=0) as oai:
        answer = await oai.responses.create(**body)  # type: ignore[call-overload]
    assert answer.output_text == "hello from the fake responses upstream"
    sent = fake.requests[-1]
    assert sent.path == "/v1/responses"
    assert sent.headers["authorization"] == "Bearer sk-resp"
    assert sent.body == {"model": "gpt-resp", "input": [{"role": "user", "content": "hi"}],
                         "max_output_tokens": 100,
                         "reasoning": {"summary": "auto", "effort": "high"},
                         "prompt_cache_key": "abc", "store": False}


async def test_anthropic_client_through_translation(make_settings, start_proxy,
                                                    fake_responses):
    fake, base = fake_responses
    fake.script = [Turn(text="I'll read it.", reasoning="the user wants a file",
                        calls=[{"name": "Read", "arguments": {"file_path": "/x/hello.txt"}}]),
                   Turn(text="It says kumquat.")]
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    tools = [{"name": "Read", "description": "Read a file", "input_schema": {
        "type": "object", "properties": {"file_path": {"type": "string"}}}}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "read hello.txt"}]
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        async with client.messages.stream(model="claude-x", max_tokens=300, system="Be brief.",
                                          tools=tools, messages=messages) as stream:  # type: ignore[arg-type]
            first = await stream.get_final_message()
        assert first.stop_reason == "tool_use"
        assert [b.type for b in first.content] == ["thinking", "text", "tool_use"]
        use = first.content[2]
        assert use.type == "tool_use" and use.input == {"file_path": "/x/hello.txt"}
        assert first.usage.input_tokens == 20 and first.usage.cache_read_input_tokens == 10
        messages += [{"role": "assistant", "content": [b.model_dump() for b in first.content
                                                        if b.type != "thinking"]},
                     {"role": "user", "content": [{"type": "tool_result",
                                                   "tool_use_id": use.id,
                                                   "content": "kumquat"}]}]
        second = await client.messages.create(model="claude-x", max_tokens=300, tools=tools,  # type: ignore[arg-type]
                                              messages=messages)  # type: ignore[arg-type]
    assert second.content[0].type == "text" and second.content[0].text == "It says kumquat."
    one, two = (r.body for r in fake.requests)
    assert one["instructions"] == "Be brief." and one["store"] is False
    assert one["tools"][0] == {"type": "function", "name": "Read", "strict": False,
                               "description": "Read a file",
                               "parameters": tools[0]["input_schema"]}
    assert one["max_output_tokens"] == 300 and one["stream"] is True
    assert two["input"][-2]["type"] == "function_call"
    assert two["input"][-1] == {"type": "function_call_output", "call_id": use.id,
                                "output": "kumquat"}


async def test_chat_client_through_translation(make_settings, start_proxy, fake_responses):
    fake, base = fake_responses
    fake.script = [Turn(calls=[{"name": "lookup", "arguments": {"q": "x"}}])]
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}]
    async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t",
                                  max_retries=0) as oai:
        stream = await oai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "look up x"}], tools=tools,  # type: ignore[arg-type]
            stream=True, stream_options={"include_usage": True})
        chunks = [c async for c in stream]
    args = "".join(tc.function.arguments or "" for c in chunks if c.choices
                   for tc in c.choices[0].delta.tool_calls or [] if tc.function)
    assert json.loads(args) == {"q": "x"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens == 30 and usage.completion_tokens == 7


async def test_errors_keep_their_status_and_failed_streams_are_errors(
        make_settings, start_proxy, fake_responses):
    fake, base = fake_responses
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    fake.error_status = 400
    reply = await call(runtime.address, "POST", "/v1/messages", json_body={
        "model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status == 400
    assert reply.json()["error"]["message"] == "fake responses upstream refused"
    fake.error_status = None
    fake.fail_after_events = 4
    reply = await call(runtime.address, "POST", "/v1/messages", json_body={
        "model": "m", "max_tokens": 10, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]})
    assert "event: error" in reply.text and "message_stop" not in reply.text
    fake.fail_after_events = None
    fake.cut_after_events = 4
    reply = await call(runtime.address, "POST", "/v1/responses", json_body={
        "model": "m", "input": "hi", "stream": True})
    assert reply.text.count("event: response.failed") == 1
