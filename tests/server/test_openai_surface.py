"""The OpenAI surface: request checks and errors in OpenAI's shape, the model list's two
shapes, and proxy-only body keys."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from tests.support.http import call

GOOD: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(("body", "param"), [
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "m"}, "messages"),
    ({"model": "m", "messages": []}, "messages"),
    ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"model": "m", "messages": [{"role": "tool", "content": "x"}]},
     "messages[0].tool_call_id"),
    ({**GOOD, "max_tokens": 0}, "max_tokens"),
    ({**GOOD, "max_completion_tokens": "many"}, "max_completion_tokens"),
    ({**GOOD, "stream": "yes"}, "stream"),
    ({**GOOD, "tools": [{"type": "function"}]}, "tools[0].function.name"),
    ({**GOOD, "response_format": {"type": "yaml"}}, "response_format"),
    ({**GOOD, "n": 2}, "n"),
])
async def test_bad_requests_are_400_in_openai_shape_naming_the_field(make_settings, start_proxy,
                                                                     body, param):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, "POST", "/v1/chat/completions", json_body=body)
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert param.split("[")[0].split(".")[0] in error["message"]
    assert set(error) == {"message", "type", "param", "code"}


async def test_not_json_and_wrong_method_are_openai_shaped(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, "POST", "/v1/chat/completions", data=b"{nope")
    assert reply.status == 400 and "not valid JSON" in reply.json()["error"]["message"]
    reply = await call(runtime.address, "GET", "/v1/chat/completions")
    assert reply.status == 405 and reply.json()["error"]["type"] == "invalid_request_error"
    reply = await call(runtime.address, "POST", "/v1/messages", data=b"{nope")
    assert reply.json()["type"] == "error"  # the Anthropic path keeps Anthropic's shape


async def test_sdk_sees_bad_request_error(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as info:
            await client.chat.completions.create(model="m", messages=[], n=1)
    assert info.value.param == "messages"  # type: ignore[attr-defined]


async def test_models_list_in_each_clients_shape(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        models = [m async for m in client.models.list()]
        one = await client.models.retrieve("sim")
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("nope")
    assert [m.id for m in models] == ["fusion", "sim"]
    assert models[0].object == "model" and models[0].owned_by == "fusion-tui"
    assert one.id == "sim" and isinstance(one.created, int)
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as aclient:
        page = await aclient.models.list()
    assert [m.id for m in page.data] == ["fusion", "sim"]
    raw = await call(runtime.address, "GET", "/v1/models",
                     headers={"authorization": "Bearer x"})
    assert raw.json()["object"] == "list"
    raw = await call(runtime.address, "GET", "/v1/models",
                     headers={"authorization": "Bearer x", "anthropic-version": "2023-06-01"})
    assert "has_more" in raw.json()
    raw = await call(runtime.address, "GET", "/v1/models/nope",
                     headers={"authorization": "Bearer x"})
    assert raw.status == 404 and raw.json()["error"]["type"] == "not_found_error"


async def test_request_events_say_openai(make_settings, start_proxy):
    settings = make_settings()
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/chat/completions",
                       json_body={**GOOD, "fusion_tier": "plan"},
                       headers={"x-fusion-session": "s-oai"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-fusion-route"].startswith("mode=single")
    import json
    runtime.recorder.flush()
    lines = [json.loads(x) for x in
             (settings.sessions.path / "s-oai.jsonl").read_text().splitlines()][1:]
    kinds = [x["kind"] for x in lines]
    assert kinds[0] == "request_received" and kinds[-1] == "response_finished"
    assert lines[0]["protocol"] == "openai" and lines[0]["path"] == "/v1/chat/completions"
    assert lines[-1]["status"] == 200 and lines[-1]["stop_reason"] == "stop"
    assert lines[-1]["content"][0]["text"].startswith("[simulated sim-model]")
    assert lines[-1]["input_tokens"] > 0 and lines[-1]["output_tokens"] > 0
