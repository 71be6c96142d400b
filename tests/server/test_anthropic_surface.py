"""The Anthropic surface through the official SDK, against the simulated upstream."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from tests.support.fake_openai import FakeOpenAI, running
from tests.support.http import call

GOOD: dict[str, Any] = {"model": "m", "max_tokens": 5,
                        "messages": [{"role": "user", "content": "x"}]}


def deep(levels: int) -> Any:
    """A value nested `levels` arrays deep."""
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


def anthropic_error_of(reply: Any, status: int) -> dict[str, Any]:
    """The error object of a reply that must be `status` in Anthropic's exact error shape."""
    assert reply.status == status, reply.text
    body = reply.json()
    assert body["type"] == "error" and set(body) == {"type", "error"}, body
    error = body["error"]
    assert set(error) == {"type", "message"}, error
    assert isinstance(error["type"], str) and error["type"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)


def user_blocks(*blocks: dict[str, Any]) -> dict[str, Any]:
    """GOOD with these content blocks in its user message."""
    return {**GOOD, "messages": [{"role": "user", "content": list(blocks)}]}


READ_TOOL: dict[str, Any] = {
    "name": "Read", "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                     "required": ["file_path"]},
}


@pytest.fixture
async def sdk():
    """Make AsyncAnthropic clients for an address; all are closed after the test."""
    made: list[anthropic.AsyncAnthropic] = []

    def make(address: str) -> anthropic.AsyncAnthropic:
        made.append(anthropic.AsyncAnthropic(base_url=address, api_key="test", max_retries=0))
        return made[-1]

    yield make
    for client in made:
        await client.close()


async def test_create_returns_simulated_text_and_route_header(make_settings, start_proxy, sdk):
    runtime = await start_proxy(make_settings())
    client = sdk(runtime.address)
    raw = await client.messages.with_raw_response.create(
        model="claude-whatever", max_tokens=200,
        messages=[{"role": "user", "content": "explain recursion"}])
    message = await raw.parse()
    assert raw.headers["x-fusion-route"] == "mode=single; tier=-; served_by=sim"
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith("[simulated sim-model]")
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens > 0


async def test_stream_with_tool_use(make_settings, start_proxy, sdk):
    runtime = await start_proxy(make_settings())
    client = sdk(runtime.address)
    async with client.messages.stream(
        model="m", max_tokens=500, tools=[READ_TOOL],
        system="Primary working directory: /tmp/project",
        messages=[{"role": "user", "content": "read notes.md and summarise it"}],
    ) as stream:
        final = await stream.get_final_message()
    tool_uses = [b for b in final.content if b.type == "tool_use"]
    assert final.stop_reason == "tool_use"
    assert tool_uses[0].name == "Read"
    assert tool_uses[0].input == {"file_path": "/tmp/project/notes.md"}


async def test_stream_tool_result_turn_finishes_with_text(make_settings, start_proxy, sdk):
    runtime = await start_proxy(make_settings())
    client = sdk(runtime.address)
    async with client.messages.stream(
        model="m", max_tokens=500, tools=[READ_TOOL],
        messages=[
            {"role": "user", "content": "read notes.md"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1",
                                               "name": "Read",
                                               "input": {"file_path": "notes.md"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                          "content": "the secret word is pineapple"}]},
        ],
    ) as stream:
        text = "".join([t async for t in stream.text_stream])
    assert "pineapple" in text


async def test_structured_output_is_valid_json_for_schema(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    schema = {"type": "object", "properties": {"title": {"type": "string"},
                                               "count": {"type": "integer", "minimum": 3}},
              "required": ["title", "count"], "additionalProperties": False}
    reply = await call(runtime.address, "POST", "/v1/messages", json_body={
        "model": "m", "max_tokens": 100, "tools": [],
        "output_config": {"format": {"type": "json_schema", "schema": schema}},
        "messages": [{"role": "user", "content": "title this session"}]})
    value = json.loads(reply.json()["content"][0]["text"])
    assert set(value) == {"title", "count"} and isinstance(value["title"], str)
    assert value["count"] >= 3


async def test_count_tokens_and_models(make_settings, start_proxy, sdk):
    runtime = await start_proxy(make_settings())
    client = sdk(runtime.address)
    counted = await client.messages.count_tokens(
        model="m", messages=[{"role": "user", "content": "how many tokens is this " * 20}])
    assert counted.input_tokens > 20
    models = [m.id async for m in client.models.list()]
    assert models == ["fusion", "sim"]
    assert (await client.models.retrieve("sim")).display_name == "sim (sim-model, simulated)"
    with pytest.raises(anthropic.NotFoundError):
        await client.models.retrieve("nope")


@pytest.mark.parametrize(("body", "needle"), [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"model": "m", "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
    (b'{"model": "m", "max_tokens": 5, "messages": []}', "non-empty"),
    (b'{"model": "m", "max_tokens": 99999999, "messages": [{"role": "user", "content": "x"}]}',
     "more than 1,000,000"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": '
     b'"tool_result", "tool_use_id": "toolu_x", "content": "x"}]}]}',
     "messages.0.content.0.tool_use_id: 'toolu_x' matches no tool_use"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": '
     b'"image", "source": {"type": "base64", "media_type": "image/png", "data": "!!"}}]}]}',
     "messages.0.content.0.source.data: not valid base64"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": 7}]}',
     "messages.0.content"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "\xff\xfe"}]}',
     "not valid JSON"),
    (b'{"a":' * 2000 + b"1" + b"}" * 2000, "not valid JSON"),
    (b'{"max_tokens": 5, "messages": []}', "model"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "robot", "content": "x"}]}',
     "messages.0.role"),
    (b"", "empty"),
    (json.dumps(user_blocks({"type": "tool_use", "id": "t", "name": "f",
                             "input": {"a": deep(300)}})).encode(),
     "messages.0.content.0.input.a...: nested deeper than 64 levels"),
    (json.dumps({**GOOD, "metadata": {"user_id": "u", "x": deep(300)}}).encode(),
     "metadata.x.0.0.0.0...: nested deeper than 64 levels"),
    (json.dumps({**GOOD, "tools": [{"name": "f", "input_schema": deep(300)}]}).encode(),
     "tools.0.input_schema.0.0.0...: nested deeper than 64 levels"),
    (json.dumps(user_blocks({"type": "text", "text": 5})).encode(), "messages.0.content.0.text"),
    (json.dumps(user_blocks({"type": "tool_use", "id": "t", "name": "f", "input": "x"})).encode(),
     "messages.0.content.0.input: must be an object"),
    (json.dumps({**GOOD, "system": [{"type": "image"}]}).encode(), "system.0: must be a text"),
    (json.dumps({**GOOD, "stop_sequences": "END"}).encode(), "stop_sequences"),
    (json.dumps({**GOOD, "temperature": "hot"}).encode(), "temperature: must be a number"),
    (json.dumps({**GOOD, "tool_choice": {"type": "tool"}}).encode(), "tool_choice.name"),
    (json.dumps({**GOOD, "output_config": True}).encode(), "output_config: must be an object"),
    (json.dumps({**GOOD, "output_config": {"format": {"type": "json_schema"}}}).encode(),
     "output_config.format.schema"),
    (json.dumps({**GOOD, "tools": [{"name": "f", "input_schema": 5}]}).encode(),
     "tools.0.input_schema: must be an object"),
    (json.dumps({**GOOD, "tools": [{"name": "f", "input_schema": {"properties": 5}}]}).encode(),
     "tools.0.input_schema.properties: must be an object"),
    (json.dumps({**GOOD, "metadata": {"user_id": 5}}).encode(), "metadata.user_id"),
])
async def test_bad_requests_get_400_in_anthropic_shape(make_settings, start_proxy, body, needle):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, "POST", "/v1/messages?beta=true", data=body,
                       headers={"content-type": "application/json"})
    error = anthropic_error_of(reply, 400)
    assert error["type"] == "invalid_request_error"
    assert needle in error["message"]


async def test_body_over_the_limit_is_a_413_in_shape(make_settings, start_proxy):
    runtime = await start_proxy(make_settings(server={"host": "127.0.0.1", "port": 0,
                                                      "max_body_mb": 0.01}))
    big = b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "' + \
        b"x" * 20_000 + b'"}]}'
    reply = await call(runtime.address, "POST", "/v1/messages", data=big,
                       headers={"content-type": "application/json"})
    assert anthropic_error_of(reply, 413) == {"type": "request_too_large",
                                              "message": "request body too large (limit 0.01 MiB)"}


async def test_unknown_path_and_method_and_liveness(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    address = runtime.address
    missing = await call(address, "POST", "/v1/nothing", json_body={})
    wrong = await call(address, "GET", "/v1/messages")
    root = await call(address, "HEAD", "/")
    hello = await call(address, "GET", "/api/hello")
    health = (await call(address, "GET", "/health")).json()
    assert anthropic_error_of(missing, 404)["type"] == "not_found_error"
    assert anthropic_error_of(wrong, 405) == {
        "type": "invalid_request_error", "message": "method GET not allowed on /v1/messages"}
    assert root.status == 200 and hello.status == 200
    assert health["listening"] == runtime.address
    assert health["upstreams"][0] == {"id": "sim", "type": "simulated", "model": "sim-model",
                                      "simulated": True, "api_key": "none"}
    assert health["classifier"]["ready"] is False


async def test_simulated_fault_status_reaches_client_with_retry_after(make_settings, start_proxy,
                                                                     sdk):
    settings = make_settings(upstreams=[{**_sim(), "fault": {"status": 529, "retry_after_s": 2}}])
    runtime = await start_proxy(settings)
    client = sdk(runtime.address)
    with pytest.raises(anthropic.APIStatusError) as info:
        await client.messages.create(model="m", max_tokens=10,
                                     messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 529
    assert info.value.response.headers["retry-after"] == "2"
    assert "simulated fault" in info.value.message


async def test_stream_cut_becomes_error_event_not_a_finish(make_settings, start_proxy, sdk):
    settings = make_settings(upstreams=[{**_sim(), "fault": {"cut_after_events": 4}}])
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body={
        "model": "m", "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]})
    text = reply.text
    assert "event: error" in text
    assert "event: message_stop" not in text
    assert "ended before message_stop" in text
    client = sdk(runtime.address)
    with pytest.raises(anthropic.APIStatusError):
        async with client.messages.stream(model="m", max_tokens=100,
                                          messages=[{"role": "user", "content": "hi"}]) as s:
            await s.get_final_message()


def _sim() -> dict[str, Any]:
    from tests.conftest import SIM
    return dict(SIM)


UNKNOWN = {"type": "future_block", "payload": {"n": 1}}


async def test_unknown_block_passes_through_to_an_anthropic_upstream(make_settings, start_proxy,
                                                                     fake_anthropic):
    fake, base = fake_anthropic
    runtime = await start_proxy(make_settings(upstreams=[
        {"id": "real", "type": "anthropic", "base_url": base, "model": "claude-up"}]))
    body = user_blocks({"type": "text", "text": "hi"}, UNKNOWN)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=body)
    assert reply.status == 200, reply.text
    assert fake.requests[-1].body["messages"][0]["content"][1] == UNKNOWN


async def test_unknown_block_to_an_openai_upstream_is_dropped_with_a_note(make_settings,
                                                                          start_proxy):
    fake = FakeOpenAI()
    async with running(fake) as base:
        settings = make_settings(upstreams=[{"id": "oai", "type": "openai-compatible",
                                             "base_url": base, "model": "gpt-up"}])
        runtime = await start_proxy(settings)
        body = {**GOOD, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi"}, UNKNOWN]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read",
                                               "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                          "content": [{"type": "text", "text": "ok"},
                                                      UNKNOWN]}]}]}
        reply = await call(runtime.address, "POST", "/v1/messages", json_body=body,
                           headers={"x-fusion-session": "s-unknown"})
        assert reply.status == 200, reply.text
        sent = fake.requests[-1].body["messages"]
        assert sent[0] == {"role": "user", "content": "hi"}
        assert sent[2] == {"role": "tool", "tool_call_id": "t1", "content": "ok"}
    runtime.recorder.flush()
    lines = (settings.sessions.path / "s-unknown.jsonl").read_text().splitlines()
    notes = [e["note"] for e in map(json.loads, lines[1:]) if e["kind"] == "translation_note"]
    assert notes == ["future_block block inside a tool_result cannot be carried; dropped",
                     "anthropic block future_block has no OpenAI equivalent; dropped"]
