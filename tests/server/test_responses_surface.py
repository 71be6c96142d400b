"""POST /v1/responses through the official openai SDK (`client.responses.create`, streaming
and not, function tools, function_call_output items, instructions), errors in OpenAI's shape,
translation to Anthropic- and Chat-protocol upstreams, and a council turn."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.server.test_council_http import council_settings
from tests.support.fake_openai import FakeOpenAI, Turn, running
from tests.support.http import call

READ_FILE = {"type": "function", "name": "read_file", "description": "Read a file",
             "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                            "required": ["path"]}}


def client(runtime) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t", max_retries=0)


def round_trip_input(call_id: str, arguments: str, output: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": "read hello.txt please"},
            {"type": "function_call", "call_id": call_id, "name": "read_file",
             "arguments": arguments},
            {"type": "function_call_output", "call_id": call_id, "output": output}]


async def test_tool_round_trip_non_streaming(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    async with client(runtime) as oai:
        first = await oai.responses.create(model="fusion", input="read hello.txt please",
                                           instructions="You are terse.", tools=[READ_FILE])
        calls = [o for o in first.output if o.type == "function_call"]
        assert first.status == "completed" and len(calls) == 1
        assert calls[0].name == "read_file" and json.loads(calls[0].arguments) == {
            "path": "hello.txt"}
        assert first.usage is not None and first.usage.output_tokens > 0
        second = await oai.responses.create(
            model="fusion", tools=[READ_FILE],
            input=round_trip_input(calls[0].call_id, calls[0].arguments, "kumquat 7319"))
    assert "kumquat 7319" in second.output_text
    assert not [o for o in second.output if o.type == "function_call"]


async def test_tool_round_trip_streaming_with_the_sdk_helper(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    async with client(runtime) as oai:
        async with oai.responses.stream(model="fusion", input="read hello.txt please",
                                        tools=[READ_FILE]) as stream:
            types = [event.type async for event in stream]
            final = await stream.get_final_response()
        call_item = next(o for o in final.output if o.type == "function_call")
        stream2 = await oai.responses.create(
            model="fusion", tools=[READ_FILE], stream=True,
            input=round_trip_input(call_item.call_id, call_item.arguments, "kumquat 7319"))
        text = "".join([e.delta async for e in stream2 if e.type == "response.output_text.delta"])
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in types
    assert json.loads(call_item.arguments) == {"path": "hello.txt"}
    assert "kumquat 7319" in text


async def test_previous_response_id_is_a_clear_400_in_openai_shape(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    async with client(runtime) as oai:
        with pytest.raises(openai.BadRequestError) as caught:
            await oai.responses.create(model="fusion", input="hi",
                                       previous_response_id="resp_abc")
    body: Any = caught.value.body
    assert body["param"] == "previous_response_id"
    assert "previous_response_id" in body["message"] and "whole conversation" in body["message"]
    reply = await call(runtime.address, "POST", "/v1/responses", json_body={
        "model": "m", "input": [{"type": "function_call_output", "call_id": "nope",
                                 "output": "x"}]})
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "input[0].call_id"
    missing = await call(runtime.address, "GET", "/v1/responses/resp_1")
    assert missing.status == 404 and "stores no responses" in missing.json()["error"]["message"]


async def test_translated_to_a_chat_completions_upstream(make_settings, start_proxy):
    def answer(body: dict[str, Any]) -> Turn:
        tools = [m for m in body["messages"] if m["role"] == "tool"]
        if tools:
            return Turn(text=f"It says {tools[-1]['content']}")
        return Turn(text="Reading.", tool_calls=[{"name": "read_file",
                                                   "arguments": {"path": "hello.txt"}}])

    fake = FakeOpenAI(script=[answer] * 4)
    async with running(fake) as base:
        runtime = await start_proxy(make_settings(upstreams=[{
            "id": "chat", "type": "openai-compatible", "base_url": base, "model": "gpt-up"}]))
        async with client(runtime) as oai:
            stream = await oai.responses.create(model="fusion", input="read hello.txt",
                                                instructions="Be brief.", tools=[READ_FILE],
                                                stream=True)
            events = [e async for e in stream]
            done = next(e for e in events if e.type == "response.completed")
            fc = next(o for o in done.response.output if o.type == "function_call")
            final = await oai.responses.create(
                model="fusion", tools=[READ_FILE],
                input=round_trip_input(fc.call_id, fc.arguments, "kumquat"))
    assert final.output_text == "It says kumquat"
    first, second = (r.body for r in fake.requests)
    assert first["model"] == "gpt-up" and first["messages"][0] == {"role": "system",
                                                                   "content": "Be brief."}
    assert first["tools"][0]["function"]["name"] == "read_file"
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": fc.call_id,
                                      "content": "kumquat"}
    assert done.response.usage is not None and done.response.usage.input_tokens == 20


async def test_a_cut_upstream_stream_becomes_response_failed(make_settings, start_proxy):
    runtime = await start_proxy(make_settings(upstreams=[{
        "id": "sim", "type": "simulated", "model": "sim", "first_token_ms": 1,
        "tokens_per_s": 5000, "fault": {"cut_after_events": 4}}]))
    reply = await call(runtime.address, "POST", "/v1/responses",
                       json_body={"model": "m", "input": "hello", "stream": True})
    assert reply.status == 200
    assert "event: response.created" in reply.text
    assert "event: response.failed" in reply.text
    assert "event: response.completed" not in reply.text


async def test_council_turn_streams_one_well_ordered_response(make_settings, start_proxy):
    runtime = await start_proxy(council_settings(make_settings, ping_interval_s=0.05))
    async with client(runtime) as oai:
        stream = await oai.responses.create(
            model="fusion", tools=[READ_FILE], stream=True,
            input=round_trip_input("call_1", '{"path": "notes.md"}', "TODO: split it"),
            extra_headers={"x-fusion-tier": "plan"})
        events = [e async for e in stream]
    types = [e.type for e in events]
    assert types.count("response.created") == 1 and types[-1] == "response.completed"
    numbers = [e.sequence_number for e in events]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert "TODO: split it" in text
