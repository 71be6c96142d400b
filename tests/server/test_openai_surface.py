"""The OpenAI surface: request checks and errors in OpenAI's shape, the model list's two
shapes, and proxy-only body keys."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

from tests.support.fake_openai import FakeOpenAI, running
from tests.support.http import call

GOOD: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
CALLED: list[dict[str, Any]] = [
    {"role": "user", "content": "read a.txt"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "Read", "arguments": "{}"}}]}]


def deep(levels: int) -> Any:
    """A value nested `levels` arrays deep."""
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


def user_part(part: dict[str, Any]) -> dict[str, Any]:
    """GOOD with one content part in its user message."""
    return {**GOOD, "messages": [{"role": "user", "content": [part]}]}


def openai_error_of(reply: Any, status: int) -> dict[str, Any]:
    """The error object of a reply that must be `status` in OpenAI's exact error shape."""
    assert reply.status == status, reply.text
    body = reply.json()
    assert "type" not in body and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    return dict(error)


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
    ({**GOOD, "max_tokens": 99_999_999}, "max_tokens"),
    ({**GOOD, "max_completion_tokens": 1_000_001}, "max_completion_tokens"),
    (user_part({"type": "image_url", "image_url": "x"}), "messages[0].content[0].image_url"),
    (user_part({"type": "image_url", "image_url": {"url": 5}}),
     "messages[0].content[0].image_url"),
    (user_part({"type": "text", "text": ["x"]}), "messages[0].content[0].text"),
    (user_part({"type": "file", "file": "f"}), "messages[0].content[0].file"),
    ({**GOOD, "stop": 5}, "stop"),
    ({**GOOD, "stop": ["a", 1]}, "stop"),
    ({**GOOD, "tool_choice": {"function": "x"}}, "tool_choice"),
    ({**GOOD, "tool_choice": {"type": "allowed_tools"}}, "tool_choice"),
    ({**GOOD, "tool_choice": "any"}, "tool_choice"),
    ({**GOOD, "temperature": "hot"}, "temperature"),
    ({**GOOD, "top_p": True}, "top_p"),
    ({**GOOD, "parallel_tool_calls": "no"}, "parallel_tool_calls"),
    ({**GOOD, "user": 5}, "user"),
    ({**GOOD, "stream_options": []}, "stream_options"),
    ({**GOOD, "tools": [{"type": "function", "function": {"name": "f", "parameters": 5}}]},
     "tools[0].function.parameters"),
    ({**GOOD, "tools": [{"type": "function", "function": {"name": "f", "description": 5}}]},
     "tools[0].function.description"),
    ({**GOOD, "response_format": {"type": "json_schema", "json_schema": {"schema": "s"}}},
     "response_format.json_schema.schema"),
    ({**GOOD, "messages": [CALLED[0], {**CALLED[1], "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "Read", "arguments": {}}}]}]},
     "messages[1].tool_calls[0].function.arguments"),
])
async def test_bad_requests_are_400_in_openai_shape_naming_the_field(make_settings, start_proxy,
                                                                     body, param):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, "POST", "/v1/chat/completions", json_body=body)
    error = openai_error_of(reply, 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert param.split("[")[0].split(".")[0] in error["message"]


@pytest.mark.parametrize(("body", "needle", "param"), [
    (b"{nope", "not valid JSON", None),
    (b'{"model": "m", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
     "not valid JSON", None),
    (b"[1, 2]", "JSON object", None),
    (b'"hi"', "JSON object", None),
    (b"", "empty", None),
    (b'{"a":' * 2000 + b"1" + b"}" * 2000, "not valid JSON", None),
    (json.dumps(user_part({"type": "text", "text": "x", "extra": deep(300)})).encode(),
     "messages[0].content[0].extra[0]...: nested deeper than 64 levels",
     "messages[0].content[0].extra[0]"),
    (json.dumps({**GOOD, "metadata": {"a": deep(300)}}).encode(),
     "metadata.a[0][0][0][0]...: nested deeper than 64 levels", "metadata.a[0][0][0][0]"),
    (json.dumps({**GOOD, "tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "x": deep(300)}}}]}).encode(),
     "tools[0].function.parameters.x[0]...: nested deeper", "tools[0].function.parameters.x[0]"),
    (json.dumps({**GOOD, "messages": [*CALLED, {"role": "tool", "tool_call_id": "c9",
                                                "content": "x"}]}).encode(),
     "'c9' matches no tool call", "messages[2].tool_call_id"),
    (json.dumps(user_part({"type": "image_url", "image_url": {
        "url": "data:image/png;base64,!!not base64!!"}})).encode(),
     "data URL is not valid base64", "messages[0].content[0].image_url"),
], ids=["not-json", "invalid-utf8", "array", "string", "empty", "deeper-than-orjson",
        "deep-part", "deep-metadata", "deep-schema", "unmatched-tool-call", "bad-base64"])
async def test_bad_bodies_are_400_in_openai_shape(make_settings, start_proxy, body, needle,
                                                  param):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, "POST", "/v1/chat/completions", data=body,
                       headers={"content-type": "application/json"})
    error = openai_error_of(reply, 400)
    assert error["type"] == "invalid_request_error"
    assert needle in error["message"] and error["param"] == param


async def test_body_over_the_limit_is_a_413_in_openai_shape(make_settings, start_proxy):
    runtime = await start_proxy(make_settings(server={"host": "127.0.0.1", "port": 0,
                                                      "max_body_mb": 0.01}))
    big = json.dumps({**GOOD, "messages": [{"role": "user", "content": "x" * 20_000}]})
    reply = await call(runtime.address, "POST", "/v1/chat/completions", data=big.encode(),
                       headers={"content-type": "application/json"})
    error = openai_error_of(reply, 413)
    assert error["message"] == "request body too large (limit 0.01 MiB)"


@pytest.mark.parametrize(("method", "path", "status", "needle"), [
    ("GET", "/v1/chat/completions", 405, "method GET not allowed on /v1/chat/completions"),
    ("PUT", "/v1/chat/completions", 405, "method PUT not allowed"),
    ("POST", "/v1/chat/completions/extra", 404, "no route for POST /v1/chat/completions/extra"),
    ("POST", "/v1/completions", 404, "no route for POST /v1/completions"),
])
async def test_unknown_path_and_wrong_method_are_openai_shaped(make_settings, start_proxy,
                                                               method, path, status, needle):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, method, path, json_body=GOOD)
    error = openai_error_of(reply, status)
    assert needle in error["message"]
    assert error["type"] == ("not_found_error" if status == 404 else "invalid_request_error")


async def test_the_anthropic_path_keeps_anthropics_shape(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, "POST", "/v1/messages", data=b"{nope")
    body = reply.json()
    assert reply.status == 400 and body["type"] == "error" and set(body) == {"type", "error"}
    assert body["error"]["type"] == "invalid_request_error" and body["error"]["message"]


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
    runtime.recorder.flush()
    lines = [json.loads(x) for x in
             (settings.sessions.path / "s-oai.jsonl").read_text().splitlines()][1:]
    kinds = [x["kind"] for x in lines]
    assert kinds[0] == "request_received" and kinds[-1] == "response_finished"
    assert lines[0]["protocol"] == "openai" and lines[0]["path"] == "/v1/chat/completions"
    assert lines[-1]["status"] == 200 and lines[-1]["stop_reason"] == "stop"
    assert lines[-1]["content"][0]["text"].startswith("[simulated sim-model]")
    assert lines[-1]["input_tokens"] > 0 and lines[-1]["output_tokens"] > 0


UNKNOWN_PART = {"type": "future_part", "payload": {"n": 1}}


async def test_unknown_part_to_an_anthropic_upstream_is_dropped_with_a_note(make_settings,
                                                                            start_proxy):
    settings = make_settings()
    runtime = await start_proxy(settings)
    body = {**GOOD, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"},
                                                             UNKNOWN_PART]}]}
    reply = await call(runtime.address, "POST", "/v1/chat/completions", json_body=body,
                       headers={"x-fusion-session": "s-part"})
    assert reply.status == 200, reply.text
    runtime.recorder.flush()
    lines = [json.loads(x) for x in
             (settings.sessions.path / "s-part.jsonl").read_text().splitlines()][1:]
    notes = [(x["direction"], x["note"]) for x in lines if x["kind"] == "translation_note"]
    assert notes == [("openai->anthropic",
                      "content part future_part has no Anthropic equivalent; dropped")]


async def test_unknown_part_passes_through_to_an_openai_upstream(make_settings, start_proxy):
    fake = FakeOpenAI()
    async with running(fake) as base:
        runtime = await start_proxy(make_settings(upstreams=[
            {"id": "oai", "type": "openai-compatible", "base_url": base, "model": "gpt-up"}]))
        body = {**GOOD, "messages": [{"role": "user", "content": [UNKNOWN_PART]}]}
        reply = await call(runtime.address, "POST", "/v1/chat/completions", json_body=body)
        assert reply.status == 200, reply.text
        assert fake.requests[-1].body["messages"][0]["content"] == [UNKNOWN_PART]
