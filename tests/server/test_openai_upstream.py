"""The OpenAI upstream types against a local server: URLs, keys, headers, model lists, and
the timeouts (connect, first byte, idle gap) enforced for the whole of a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest

from fusion_tui.config import UpstreamSettings
from fusion_tui.upstreams.openai import OpenAIUpstream, api_base
from tests.support.fake_openai import FakeOpenAI, running
from tests.support.http import call


@pytest.fixture
async def fake_openai() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    """A local OpenAI-protocol server: (its script and record, its base URL)."""
    fake = FakeOpenAI()
    async with running(fake) as base:
        yield fake, base


def settings_for(kind: str, base: str | None, **extra: Any) -> UpstreamSettings:
    return UpstreamSettings(id="u", type=kind, model="m", base_url=base,  # type: ignore[arg-type]
                            **extra)


@pytest.mark.parametrize(("kind", "base", "expected"), [
    ("openai", None, "https://api.openai.com/v1"),
    ("openai-compatible", "https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1"),
    ("openai-compatible", "http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
    ("openai-compatible", "http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
    ("ollama", None, "http://127.0.0.1:11434/v1"),
    ("ollama", "http://gpu-box:11434", "http://gpu-box:11434/v1"),
])
def test_api_base(kind, base, expected):
    assert api_base(settings_for(kind, base)) == expected


def test_openai_compatible_needs_base_url():
    with pytest.raises(ValueError, match="needs base_url"):
        settings_for("openai-compatible", None)


async def test_headers_key_and_model_lists(fake_openai, monkeypatch):
    fake, base = fake_openai
    monkeypatch.setenv("FUSION_TEST_OAI_KEY", "sk-x")
    up = OpenAIUpstream(settings_for("openai-compatible", base, api_key_env="FUSION_TEST_OAI_KEY",
                                     headers={"HTTP-Referer": "https://fusion.test"}))
    ollama = OpenAIUpstream(settings_for("ollama", base))
    try:
        reply = await up.chat_completions({"model": "x", "messages": [
            {"role": "user", "content": "hi"}]}, {})
        assert reply.status == 200
        assert await up.list_models() == ["gpt-fake", "gpt-fake-mini"]
        assert await ollama.list_models() == ["gpt-fake", "gpt-fake-mini"]
        await ollama.chat_completions({"model": "x", "messages": [
            {"role": "user", "content": "hi"}]}, {})
    finally:
        await up.close()
        await ollama.close()
    sent = fake.requests[0]
    assert sent.headers["authorization"] == "Bearer sk-x"
    assert sent.headers["http-referer"] == "https://fusion.test"
    assert fake.requests[1].path == "/v1/chat/completions"
    assert "authorization" not in fake.requests[1].headers


async def test_first_byte_timeout_is_504(make_settings, start_proxy, fake_openai):
    fake, base = fake_openai
    fake.first_byte_delay_s = 1.5
    runtime = await start_proxy(make_settings(upstreams=[{
        "id": "slow", "type": "openai-compatible", "base_url": base, "model": "m",
        "timeout_s": 0.3}]))
    reply = await call(runtime.address, "POST", "/v1/chat/completions", json_body={
        "model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert reply.status == 504
    assert "no answer within 0.3s" in reply.json()["error"]["message"]
    reply = await call(runtime.address, "POST", "/v1/messages", json_body={
        "model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
    assert reply.status == 504 and reply.json()["type"] == "error"


async def test_idle_gap_timeout_mid_stream_is_a_stream_error(make_settings, start_proxy,
                                                             fake_openai):
    fake, base = fake_openai
    fake.text = "one two three"
    fake.chunk_gap_s = 1.0
    runtime = await start_proxy(make_settings(upstreams=[{
        "id": "slow", "type": "openai-compatible", "base_url": base, "model": "m",
        "timeout_s": 0.3}]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "x"}])
        with pytest.raises(openai.APIError, match=r"stream idle for more than 0\.3s"):
            async for _ in stream:
                pass
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as aclient:
        with pytest.raises(anthropic.APIError, match="stream idle"):
            async with aclient.messages.stream(model="m", max_tokens=5, messages=[
                    {"role": "user", "content": "x"}]) as astream:
                await astream.get_final_message()


async def test_a_long_stream_with_short_gaps_is_not_cut(make_settings, start_proxy,
                                                        fake_openai):
    fake, base = fake_openai
    fake.text = "a b c d e f g h"
    fake.chunk_gap_s = 0.1  # about 1.1s in all, each gap well under the 0.4s timeout
    runtime = await start_proxy(make_settings(upstreams=[{
        "id": "steady", "type": "openai-compatible", "base_url": base, "model": "m",
        "timeout_s": 0.4}]))
    async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                  max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "x"}])
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "a b c d e f g h"


async def test_openai_mid_stream_error_chunk_reaches_openai_client(make_settings, start_proxy,
                                                                   fake_openai):
    fake, base = fake_openai
    fake.text = "one two three"
    fake.error_after_chunks = 2
    fake.error_message = "model crashed"
    runtime = await start_proxy(make_settings(upstreams=[{
        "id": "oai", "type": "openai-compatible", "base_url": base, "model": "m"}]))
    reply = await call(runtime.address, "POST", "/v1/chat/completions", json_body={
        "model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]})
    assert reply.status == 200
    assert '"error"' in reply.text and "model crashed" in reply.text
    assert "[DONE]" not in reply.text
    fake.error_after_chunks = None
    fake.cut_after_chunks = 2
    reply = await call(runtime.address, "POST", "/v1/chat/completions", json_body={
        "model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]})
    assert "ended before [DONE]" in reply.text and "[DONE]\n" not in reply.text
