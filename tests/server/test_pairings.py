"""Every client protocol against every upstream protocol, through the official SDKs.

Anthropic client -> OpenAI upstream, OpenAI client -> Anthropic upstream, OpenAI -> OpenAI
(pass-through) and OpenAI client -> the simulated upstream; Anthropic -> Anthropic is covered
in test_anthropic_upstream.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest

from tests.support.fake_openai import FakeOpenAI, Turn, running

READ_TOOL = {"name": "Read", "description": "Read a file",
             "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                              "required": ["file_path"]}}
OPENAI_READ_TOOL = {"type": "function", "function": {
    "name": "Read", "description": "Read a file", "parameters": READ_TOOL["input_schema"]}}


@pytest.fixture
async def fake_openai() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    """A local OpenAI-protocol server: (its script and record, its base URL)."""
    fake = FakeOpenAI()
    async with running(fake) as base:
        yield fake, base


def oai(base: str, **extra: Any) -> dict[str, Any]:
    return {"id": "oai", "type": "openai-compatible", "base_url": base, "model": "gpt-up",
            "api_key_env": "FUSION_TEST_OPENAI_KEY", **extra}


def ant(base: str, **extra: Any) -> dict[str, Any]:
    return {"id": "ant", "type": "anthropic", "base_url": base, "model": "claude-up", **extra}


def events_of(runtime: Any, session: str) -> list[dict[str, Any]]:
    runtime.recorder.flush()
    path = runtime.settings.sessions.path / f"{session}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()][1:]


# ---- Anthropic client -> OpenAI upstream --------------------------------------------------


async def test_anthropic_client_openai_upstream_create(make_settings, start_proxy, fake_openai,
                                                       monkeypatch):
    fake, base = fake_openai
    monkeypatch.setenv("FUSION_TEST_OPENAI_KEY", "sk-oai-secret")
    runtime = await start_proxy(make_settings(upstreams=[oai(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="client",
                                        max_retries=0) as client:
        message = await client.messages.create(
            model="claude-x", max_tokens=300, system="You are terse.",
            messages=[{"role": "user", "content": "hi"}], stop_sequences=["END"])
    assert message.content[0].type == "text"
    assert message.content[0].text == "hello from the fake openai upstream"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 15
    assert message.usage.cache_read_input_tokens == 5
    assert message.usage.output_tokens == 9
    sent = fake.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-oai-secret"
    assert sent.body["model"] == "gpt-up"
    assert sent.body["max_tokens"] == 300
    assert sent.body["stop"] == ["END"]
    assert sent.body["messages"] == [{"role": "system", "content": "You are terse."},
                                     {"role": "user", "content": "hi"}]


async def test_anthropic_client_openai_upstream_stream_parallel_tool_calls(
        make_settings, start_proxy, fake_openai):
    fake, base = fake_openai
    fake.text = "I'll read both."
    fake.tool_calls = [{"name": "Read", "arguments": {"file_path": "/w/a.py"}},
                       {"name": "Read", "arguments": {"file_path": "/w/b.py"}, "id": "call_b"}]
    runtime = await start_proxy(make_settings(upstreams=[oai(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        async with client.messages.stream(
                model="m", max_tokens=100, tools=[READ_TOOL],
                tool_choice={"type": "any", "disable_parallel_tool_use": False},
                messages=[{"role": "user", "content": "read a.py and b.py"}]) as stream:
            final = await stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use", "tool_use"]
    assert final.content[0].text == "I'll read both."
    assert final.content[1].id == "call_fake0"
    assert final.content[1].input == {"file_path": "/w/a.py"}
    assert final.content[2].id == "call_b"
    assert final.content[2].input == {"file_path": "/w/b.py"}
    assert final.usage.output_tokens == 9 and final.usage.cache_read_input_tokens == 5
    sent = fake.requests[-1].body
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["tools"] == [OPENAI_READ_TOOL]
    assert sent["tool_choice"] == "required"


async def test_anthropic_client_tool_round_trip_reaches_openai_as_tool_messages(
        make_settings, start_proxy, fake_openai):
    fake, base = fake_openai
    settings = make_settings(upstreams=[oai(base)])
    runtime = await start_proxy(settings)
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "iVBORw0KGgo="}}
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t", max_retries=0,
                                        default_headers={"x-fusion-session": "s-rt"}) as client:
        await client.messages.create(model="m", max_tokens=50, tools=[READ_TOOL], messages=[
            {"role": "user", "content": [{"type": "text", "text": "read them"}, image]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "plan", "signature": "c2ln"},
                {"type": "text", "text": "Reading."},
                {"type": "tool_use", "id": "toolu_1", "name": "Read",
                 "input": {"file_path": "/a"}},
                {"type": "tool_use", "id": "toolu_2", "name": "Read",
                 "input": {"file_path": "/b"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "alpha"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
                 "content": [{"type": "text", "text": "no such file"}]},
                {"type": "text", "text": "go on"}]},
            {"role": "system", "content": "Plan mode is active."},  # type: ignore[list-item]
        ])
    sent = fake.requests[-1].body["messages"]
    assert sent[0] == {"role": "user", "content": [
        {"type": "text", "text": "read them"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}
    assert sent[1]["role"] == "assistant" and sent[1]["content"] == "Reading."
    assert [c["id"] for c in sent[1]["tool_calls"]] == ["toolu_1", "toolu_2"]
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == {"file_path": "/a"}
    assert sent[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "alpha"}
    assert sent[3] == {"role": "tool", "tool_call_id": "toolu_2",
                       "content": "[tool error] no such file"}
    assert sent[4] == {"role": "user", "content": "go on"}
    assert sent[5] == {"role": "system", "content": "Plan mode is active."}
    notes = [e for e in events_of(runtime, "s-rt") if e["kind"] == "translation_note"]
    assert notes and notes[0]["direction"] == "anthropic->openai"
    assert "thinking" in notes[0]["note"]


async def test_anthropic_client_gets_openai_reasoning_as_thinking(make_settings, start_proxy,
                                                                  fake_openai):
    fake, base = fake_openai
    fake.reasoning = "Let me think."
    runtime = await start_proxy(make_settings(upstreams=[oai(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        whole = await client.messages.create(model="m", max_tokens=50,
                                             messages=[{"role": "user", "content": "x"}])
        async with client.messages.stream(model="m", max_tokens=50, messages=[
                {"role": "user", "content": "x"}]) as stream:
            final = await stream.get_final_message()
    for message in (whole, final):
        assert [b.type for b in message.content] == ["thinking", "text"]
        assert message.content[0].thinking.strip() == "Let me think."


@pytest.mark.parametrize("status", [400, 401, 429, 500])
async def test_openai_upstream_errors_reach_anthropic_client(make_settings, start_proxy,
                                                             fake_openai, status):
    fake, base = fake_openai
    fake.error_status = status
    fake.error_message = f"openai says no ({status})"
    fake.retry_after = "3" if status == 429 else None
    runtime = await start_proxy(make_settings(upstreams=[oai(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError) as info:
            await client.messages.create(model="m", max_tokens=5,
                                         messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == status
    assert f"openai says no ({status})" in info.value.message
    assert info.value.body["error"]["message"] == f"openai says no ({status})"  # type: ignore[index]
    if status == 429:
        assert info.value.response.headers["retry-after"] == "3"


@pytest.mark.parametrize("fault", ["error_after_chunks", "cut_after_chunks"])
async def test_openai_mid_stream_failure_is_an_anthropic_error_event(make_settings, start_proxy,
                                                                     fake_openai, fault):
    fake, base = fake_openai
    fake.text = "one two three four"
    setattr(fake, fault, 3)
    runtime = await start_proxy(make_settings(upstreams=[oai(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        with pytest.raises(anthropic.APIError):
            async with client.messages.stream(model="m", max_tokens=50, messages=[
                    {"role": "user", "content": "x"}]) as stream:
                await stream.get_final_message()


# ---- OpenAI client -> Anthropic upstream --------------------------------------------------


async def test_openai_client_anthropic_upstream_create(make_settings, start_proxy,
                                                       fake_anthropic):
    fake, base = fake_anthropic
    runtime = await start_proxy(make_settings(upstreams=[ant(base)]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        completion = await client.chat.completions.create(
            model="gpt-whatever", messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}]},
                {"role": "assistant", "content": "A cat."},
                {"role": "developer", "content": "Answer in French."},
                {"role": "user", "content": "and now?"}],
            temperature=0.2, stop="STOP", user="u-1")
    assert completion.choices[0].message.content == "hello from the fake upstream"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 14
    assert completion.usage.completion_tokens == 7
    assert completion.usage.prompt_tokens_details.cached_tokens == 3  # type: ignore[union-attr]
    sent = fake.requests[-1].body
    assert sent["model"] == "claude-up"
    assert sent["max_tokens"] == 4096
    assert sent["system"] == [{"type": "text", "text": "Be brief."}]
    assert sent["temperature"] == 0.2 and sent["stop_sequences"] == ["STOP"]
    assert sent["metadata"] == {"user_id": "u-1"}
    assert sent["messages"] == [
        {"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image", "source": {"type": "url", "url": "https://x.test/cat.png"}}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
        {"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>\nAnswer in French.\n</system-reminder>"},
            {"type": "text", "text": "and now?"}]}]


async def test_openai_client_anthropic_upstream_stream_tools_and_usage(
        make_settings, start_proxy, fake_anthropic):
    fake, base = fake_anthropic
    fake.text = "Reading now."
    fake.tool_use = {"name": "Read", "input": {"file_path": "/w/a.py"}}
    runtime = await start_proxy(make_settings(upstreams=[ant(base)]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", stream=True, stream_options={"include_usage": True},
            tools=[OPENAI_READ_TOOL], tool_choice={"type": "function",
                                                  "function": {"name": "Read"}},
            parallel_tool_calls=False, max_completion_tokens=77,
            messages=[{"role": "user", "content": "read a.py"}])
        text, args, ids, finish, usage = "", "", [], None, None
        async for chunk in stream:
            if chunk.usage:
                usage = chunk.usage
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or []:
                    if call.id:
                        ids.append((call.id, call.function.name))  # type: ignore[union-attr]
                    args += call.function.arguments or ""  # type: ignore[union-attr]
                finish = choice.finish_reason or finish
    assert text.strip() == "Reading now."
    assert ids == [("toolu_fake1", "Read")]
    assert json.loads(args) == {"file_path": "/w/a.py"}
    assert finish == "tool_calls"
    assert usage is not None and usage.prompt_tokens == 11 and usage.completion_tokens == 7
    sent = fake.requests[-1].body
    assert sent["max_tokens"] == 77 and sent["stream"] is True
    assert sent["tools"] == [READ_TOOL]
    assert sent["tool_choice"] == {"type": "tool", "name": "Read",
                                   "disable_parallel_tool_use": True}


async def test_openai_client_tool_messages_become_tool_results(make_settings, start_proxy,
                                                               fake_anthropic):
    fake, base = fake_anthropic
    runtime = await start_proxy(make_settings(upstreams=[ant(base)]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        await client.chat.completions.create(model="m", tools=[OPENAI_READ_TOOL], messages=[
            {"role": "user", "content": "read a and b"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "Read", "arguments": "{\"file_path\": \"/a\"}"}},
                {"id": "call_2", "type": "function",
                 "function": {"name": "Read", "arguments": "{\"file_path\": \"/b\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "alpha"},
            {"role": "tool", "tool_call_id": "call_2", "content": "beta"}])
    sent = fake.requests[-1].body["messages"]
    assert sent[1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "call_1", "name": "Read", "input": {"file_path": "/a"}},
        {"type": "tool_use", "id": "call_2", "name": "Read", "input": {"file_path": "/b"}}]}
    assert sent[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1",
         "content": [{"type": "text", "text": "alpha"}]},
        {"type": "tool_result", "tool_use_id": "call_2",
         "content": [{"type": "text", "text": "beta"}]}]}


@pytest.mark.parametrize("status", [400, 404, 429, 500])
async def test_anthropic_upstream_errors_reach_openai_client(make_settings, start_proxy,
                                                             fake_anthropic, status):
    fake, base = fake_anthropic
    fake.error_status = status
    fake.error_message = f"anthropic says no ({status})"
    runtime = await start_proxy(make_settings(upstreams=[ant(base)]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        with pytest.raises(openai.APIStatusError) as info:
            await client.chat.completions.create(model="m", messages=[
                {"role": "user", "content": "x"}])
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict)
    assert info.value.body["message"] == f"anthropic says no ({status})"


# ---- OpenAI client -> OpenAI upstream (pass-through) and -> simulated --------------------


async def test_openai_pass_through_keeps_the_body_but_model(make_settings, start_proxy,
                                                            fake_openai):
    fake, base = fake_openai
    fake.tool_calls = [{"name": "Read", "arguments": {"file_path": "/x"}}]
    runtime = await start_proxy(make_settings(upstreams=[oai(base)]))
    request: dict[str, Any] = {
        "model": "client-model", "messages": [{"role": "user", "content": "hi"}],
        "tools": [OPENAI_READ_TOOL], "seed": 7, "logprobs": False,
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "r", "schema": {"type": "object"}}}}
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        completion = await client.chat.completions.create(**request)
        stream = await client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True})
        chunks = [c async for c in stream]
    assert fake.requests[0].body == {**request, "model": "gpt-up"}
    calls = completion.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "Read"  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 20
    assert fake.requests[1].body["stream_options"] == {"include_usage": True}


async def test_openai_upstream_limits_and_effort(make_settings, start_proxy, fake_openai):
    fake, base = fake_openai
    runtime = await start_proxy(make_settings(upstreams=[oai(
        base, max_output_tokens=64, reasoning_effort="low")]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        await client.chat.completions.create(model="m", max_completion_tokens=1000,
                                             messages=[{"role": "user", "content": "x"}])
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as aclient:
        await aclient.messages.create(model="m", max_tokens=5000,
                                      messages=[{"role": "user", "content": "x"}])
    assert fake.requests[0].body["max_completion_tokens"] == 64
    assert fake.requests[0].body["reasoning_effort"] == "low"
    assert fake.requests[1].body["max_tokens"] == 64
    assert fake.requests[1].body["reasoning_effort"] == "low"


async def test_anthropic_upstream_limits_and_effort(make_settings, start_proxy,
                                                    fake_anthropic):
    fake, base = fake_anthropic
    runtime = await start_proxy(make_settings(upstreams=[ant(
        base, max_output_tokens=64, reasoning_effort="high")]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        await client.chat.completions.create(model="m", messages=[
            {"role": "user", "content": "x"}])
    sent = fake.requests[-1].body
    assert sent["max_tokens"] == 64
    assert sent["output_config"] == {"effort": "high"}


async def test_openai_client_simulated_upstream_stream_tool_call(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", stream=True, tools=[OPENAI_READ_TOOL], messages=[
                {"role": "system", "content": "Primary working directory: /tmp/p"},
                {"role": "user", "content": "read notes.md"}])
        args, finish = "", None
        async for chunk in stream:
            for choice in chunk.choices:
                for call in choice.delta.tool_calls or []:
                    args += call.function.arguments or ""  # type: ignore[union-attr]
                finish = choice.finish_reason or finish
        whole = await client.chat.completions.create(model="m", messages=[
            {"role": "user", "content": "explain recursion"}])
    assert json.loads(args) == {"file_path": "/tmp/p/notes.md"}
    assert finish == "tool_calls"
    assert (whole.choices[0].message.content or "").startswith("[simulated sim-model]")


async def test_openai_upstream_stream_scripted_turns(make_settings, start_proxy, fake_openai):
    fake, base = fake_openai
    fake.script = [Turn(text="first"), lambda body: Turn(text=f"saw {len(body['messages'])}")]
    runtime = await start_proxy(make_settings(upstreams=[oai(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        one = await client.messages.create(model="m", max_tokens=5,
                                           messages=[{"role": "user", "content": "x"}])
        two = await client.messages.create(model="m", max_tokens=5,
                                           messages=[{"role": "user", "content": "x"}])
    assert one.content[0].text == "first"  # type: ignore[union-attr]
    assert two.content[0].text == "saw 1"  # type: ignore[union-attr]
