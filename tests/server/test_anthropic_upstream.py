"""The Anthropic upstream type against a local server speaking the protocol."""

from __future__ import annotations

import json
import socket
from typing import Any

import anthropic
import pytest

from tests.support.http import call

# Fields the proxy must not understand but must carry unchanged (see CLAUDE-CODE-NOTES.md).
CLAUDE_CODE_LIKE: dict[str, Any] = {
    "model": "claude-opus-4-5", "max_tokens": 1024, "stream": False,
    "system": [{"type": "text", "text": "x-billing: 123"},
               {"type": "text", "text": "You are a coding agent.",
                "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi",
                                      "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "c2lnbmF0dXJl"},
            {"type": "redacted_thinking", "data": "b3BhcXVl"},
            {"type": "text", "text": "hello"}]},
        {"role": "user", "content": "continue"},
        {"role": "system", "content": "<env>Primary working directory: /w</env>"},
    ],
    "tools": [{"name": "Read", "input_schema": {"type": "object"}, "defer_loading": True}],
    "metadata": {"user_id": "{\"device\":\"d\",\"session\":\"s\"}"},
    "thinking": {"type": "adaptive"},
    "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
    "output_config": {"effort": "high"},
}


def upstream(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"id": "real", "type": "anthropic", "base_url": base_url, "model": "claude-up",
            "api_key_env": "FUSION_TEST_UPSTREAM_KEY", **extra}


async def test_fields_pass_through_unchanged_but_model(make_settings, start_proxy,
                                                       fake_anthropic, monkeypatch):
    fake, base = fake_anthropic
    monkeypatch.setenv("FUSION_TEST_UPSTREAM_KEY", "sk-upstream-secret")
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    reply = await call(runtime.address, "POST", "/v1/messages?beta=true",
                       json_body=CLAUDE_CODE_LIKE,
                       headers={"anthropic-beta": "context-management-2025-06-27,foo",
                                "anthropic-version": "2023-06-01", "x-api-key": "client-key"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-fusion-route"] == "mode=single; tier=-; served_by=real"
    sent = fake.requests[-1]
    assert sent.body == {**CLAUDE_CODE_LIKE, "model": "claude-up"}
    assert sent.headers["anthropic-beta"] == "context-management-2025-06-27,foo"
    # The upstream gets the configured key, never the client's.
    assert sent.headers["x-api-key"] == "sk-upstream-secret"
    assert reply.json()["content"][0]["text"] == "hello from the fake upstream"


async def test_sdk_stream_with_tool_use_through_anthropic_upstream(make_settings, start_proxy,
                                                                   fake_anthropic):
    fake, base = fake_anthropic
    fake.tool_use = {"name": "Read", "input": {"file_path": "/w/a.py"}}
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        async with client.messages.stream(
                model="m", max_tokens=100, messages=[{"role": "user", "content": "read a.py"}],
                tools=[{"name": "Read", "input_schema": {"type": "object"}}]) as stream:
            final = await stream.get_final_message()
        created = await client.messages.create(
            model="m", max_tokens=100, messages=[{"role": "user", "content": "again"}])
        counted = await client.messages.count_tokens(
            model="m", messages=[{"role": "user", "content": "x"}])
    assert final.stop_reason == "tool_use"
    assert final.content[1].input == {"file_path": "/w/a.py"}
    assert created.usage.cache_read_input_tokens == 3
    assert counted.input_tokens == 42
    assert fake.requests[-1].path == "/v1/messages/count_tokens"


@pytest.mark.parametrize("status", [400, 404, 429, 500])
async def test_upstream_error_status_and_message_reach_client(make_settings, start_proxy,
                                                              fake_anthropic, status):
    fake, base = fake_anthropic
    fake.error_status = status
    fake.error_message = f"upstream says no ({status})"
    fake.retry_after = "7" if status == 429 else None
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError) as info:
            await client.messages.create(model="m", max_tokens=5,
                                         messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == status
    assert f"upstream says no ({status})" in info.value.message
    if status == 429:
        assert info.value.response.headers["retry-after"] == "7"


async def test_connection_refused_is_a_502_that_says_why(make_settings, start_proxy):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runtime = await start_proxy(make_settings(upstreams=[upstream(f"http://127.0.0.1:{port}")]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body={
        "model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
    assert reply.status == 502
    body = reply.json()
    assert body["error"]["type"] == "api_error"
    assert "every upstream failed (tried real)" in body["error"]["message"]
    assert "Cannot connect" in body["error"]["message"]


async def test_recording_holds_request_and_answer(make_settings, start_proxy, fake_anthropic,
                                                  monkeypatch):
    _, base = fake_anthropic
    monkeypatch.setenv("FUSION_TEST_UPSTREAM_KEY", "sk-never-recorded")
    settings = make_settings(upstreams=[upstream(base)])
    runtime = await start_proxy(settings)
    await call(runtime.address, "POST", "/v1/messages", json_body=CLAUDE_CODE_LIKE,
               headers={"x-fusion-session": "sess-42", "x-api-key": "client-secret"})
    path = settings.sessions.path / "sess-42.jsonl"
    runtime.recorder.flush()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["kind"] == "header" and lines[0]["schema"] == 2
    kinds = [line["kind"] for line in lines[1:]]
    assert kinds == ["request_received", "route_chosen", "session_pinned", "cost_recorded",
                     "turn_priced", "response_finished"]
    assert lines[1]["body"]["messages"] == CLAUDE_CODE_LIKE["messages"]
    assert lines[6]["content"][0]["text"] == "hello from the fake upstream"
    assert "sk-never-recorded" not in path.read_text()
    assert "client-secret" not in path.read_text()


async def test_an_unchanged_body_goes_upstream_as_the_bytes_the_client_sent(
        make_settings, start_proxy, fake_anthropic, monkeypatch):
    """Nothing to change (the model is the upstream's, no limit applies): the upstream gets
    the client's own bytes, its spacing and key order included, not a re-serialised copy;
    a body that must change (the model) is serialised from the change."""
    fake, base = fake_anthropic
    monkeypatch.setenv("FUSION_TEST_UPSTREAM_KEY", "sk-upstream-secret")
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    as_sent = (b'{ "messages": [{"role": "user", "content": "hi \\u00e9"}],\n'
               b'  "max_tokens": 64, "model": "claude-up" }')
    reply = await call(runtime.address, "POST", "/v1/messages", data=as_sent,
                       headers={"content-type": "application/json"})
    assert reply.status == 200, reply.text
    assert fake.requests[-1].raw == as_sent
    changed = as_sent.replace(b'"claude-up"', b'"claude-other"')
    reply = await call(runtime.address, "POST", "/v1/messages", data=changed,
                       headers={"content-type": "application/json"})
    assert reply.status == 200, reply.text
    assert fake.requests[-1].raw != changed
    assert fake.requests[-1].body == {**json.loads(changed), "model": "claude-up"}


async def test_a_body_with_the_proxys_own_fields_is_sent_without_them(
        make_settings, start_proxy, fake_anthropic, monkeypatch):
    """fusion_tier is the proxy's: the bytes as sent would carry it, so they are not used."""
    fake, base = fake_anthropic
    monkeypatch.setenv("FUSION_TEST_UPSTREAM_KEY", "sk-upstream-secret")
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    body = {"model": "claude-up", "max_tokens": 64, "fusion_tier": "regular",
            "messages": [{"role": "user", "content": "hi"}]}
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=body)
    assert reply.status == 200, reply.text
    assert "fusion_tier" not in fake.requests[-1].body
    assert b"fusion_tier" not in fake.requests[-1].raw
