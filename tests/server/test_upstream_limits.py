"""Hostile upstreams against the limits of the shared HTTP client: redirects are never
followed (the key never reaches another host), answers and events are capped after
decompression, a call has a total deadline, and no credential fusion-tui sent comes back out
(answer, stream, recording, log), on every upstream type that goes over HTTP."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from typing import Any

import anthropic
import openai
import pytest

from tests.support.http import call
from tests.support.raw_server import (
    SSE_HEAD,
    Script,
    chunk,
    json_reply,
    serve_raw,
    until_closed,
)

KEY = "sk-upstream-secret-4242"
QUESTION: dict[str, Any] = {"model": "m", "max_tokens": 50,
                            "messages": [{"role": "user", "content": "hi"}]}
CHAT: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
KINDS = ["anthropic", "openai"]


def anthropic_answer(text: str) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "x",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}


def openai_answer(text: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def answer_for(kind: str, text: str) -> dict[str, Any]:
    return anthropic_answer(text) if kind == "anthropic" else openai_answer(text)


def sending(data: bytes) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        await until_closed(reader)

    return script


def upstream(base: str, kind: str, uid: str = "raw", **extra: Any) -> dict[str, Any]:
    return {"id": uid, "type": kind, "base_url": base, "model": "x", "timeout_s": 5,
            "api_key_env": "FUSION_TEST_UPSTREAM_KEY", **extra}


async def ask(address: str, stream: bool = False) -> Any:
    return await call(address, "POST", "/v1/messages", json_body={**QUESTION, "stream": stream},
                      headers={"x-fusion-session": "limits"})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_an_upstream_error_and_the_key_stays_home(
        kind, status, raw, make_settings, start_proxy, monkeypatch):
    monkeypatch.setenv("FUSION_TEST_UPSTREAM_KEY", KEY)
    elsewhere, other = await serve_raw(raw, sending(json_reply(200, answer_for(kind, "stolen"))))
    _, base = await serve_raw(raw, sending(json_reply(
        status, {"moved": True}, {"location": f"{other}/v1/messages"})))
    runtime = await start_proxy(make_settings(upstreams=[upstream(base, kind)]))
    reply = await ask(runtime.address)
    assert reply.status == 502, reply.text
    message = reply.json()["error"]["message"]
    assert f"HTTP {status}" in message and "redirects are not followed" in message
    assert other in message  # says where it wanted to go
    await asyncio.sleep(0.05)
    assert elsewhere.requests == []  # nothing, let alone the key, went to the other host


async def test_a_redirecting_upstream_fails_over_to_the_next(
        raw, make_settings, start_proxy, fake_anthropic):
    fake, good = fake_anthropic
    _, base = await serve_raw(raw, sending(json_reply(302, {}, {"location": "http://x.test/"})))
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base, "anthropic", "bad"), upstream(good, "anthropic", "good")],
        pools={"actor": ["bad", "good"]}))
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        message = await client.messages.create(**QUESTION)
    assert message.content[0].text.strip() == fake.text  # type: ignore[union-attr]


def gzipped(kind: str, size: int) -> bytes:
    text = "z" * size
    raw_body = gzip.compress(json.dumps(answer_for(kind, text)).encode(), 9)
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
            + f"content-length: {len(raw_body)}\r\nconnection: close\r\n\r\n".encode()
            + raw_body)


@pytest.mark.parametrize("kind", KINDS)
async def test_an_answer_that_inflates_past_the_cap_is_refused(
        kind, raw, make_settings, start_proxy):
    _, base = await serve_raw(raw, sending(gzipped(kind, 3 * 1024 * 1024)))
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base, kind, max_body_mb=1)]))
    reply = await ask(runtime.address)
    assert reply.status == 502, reply.text[:300]
    assert "larger than 1 MiB after decompression (upstream max_body_mb)" in reply.text


@pytest.mark.parametrize("kind", KINDS)
async def test_a_small_answer_that_arrives_whole_is_still_capped(
        kind, raw, make_settings, start_proxy):
    # One write, headers and body together: read without waiting, and still held to the cap.
    body = json.dumps(answer_for(kind, "z" * 4000)).encode()
    _, base = await serve_raw(raw, sending(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body))
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base, kind, max_body_mb=0.001)]))
    reply = await ask(runtime.address)
    assert reply.status == 502, reply.text[:300]
    assert "larger than 0.001 MiB after decompression (upstream max_body_mb)" in reply.text


@pytest.mark.parametrize("kind", KINDS)
async def test_an_answer_under_the_cap_passes_decompressed(
        kind, raw, make_settings, start_proxy):
    _, base = await serve_raw(raw, sending(gzipped(kind, 1000)))
    runtime = await start_proxy(make_settings(upstreams=[upstream(base, kind)]))
    reply = await ask(runtime.address)
    assert reply.status == 200 and "z" * 1000 in reply.text


async def test_one_endless_stream_event_is_cut_at_the_event_cap(
        raw, make_settings, start_proxy):
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + chunk(b"event: message_start\ndata: {\"x\": \""))
        for _ in range(100):
            writer.write(chunk(b"y" * 1024))
            await writer.drain()
        await until_closed(reader)

    _, base = await serve_raw(raw, script)
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base, "anthropic", max_event_mb=0.03)]))
    reply = await ask(runtime.address, stream=True)
    assert "max_event_mb" in reply.text, reply.text[:300]
    assert "y" * 1024 not in reply.text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_trickling_answer_ends_at_the_deadline(
        stream, raw, make_settings, start_proxy):
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if stream:
            writer.write(SSE_HEAD)
        else:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                         b"transfer-encoding: chunked\r\n\r\n")
        while True:  # a byte at a time, never idle long enough for timeout_s
            writer.write(chunk(b":\n" if stream else b" "))
            await writer.drain()
            await asyncio.sleep(0.02)

    _, base = await serve_raw(raw, trickle)
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base, "anthropic", deadline_s=0.4)]))
    reply = await asyncio.wait_for(ask(runtime.address, stream=stream), 10)
    assert "0.4s deadline (upstream deadline_s)" in reply.text, reply.text[:300]


def echo_anthropic_stream(secret: str) -> bytes:
    start = {"type": "message_start", "message": {
        "id": "m", "type": "message", "role": "assistant", "model": "x", "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1}}}
    events = [("message_start", start),
              ("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}}),
              ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                       "delta": {"type": "text_delta",
                                                 "text": f"your key is {secret}!"}}),
              ("content_block_stop", {"type": "content_block_stop", "index": 0}),
              ("message_delta", {"type": "message_delta", "delta": {
                  "stop_reason": "end_turn", "stop_sequence": None},
                  "usage": {"output_tokens": 3}}),
              ("message_stop", {"type": "message_stop"})]
    data = b"".join(f"event: {name}\ndata: {json.dumps(body)}\n\n".encode()
                    for name, body in events)
    cut = data.index(secret.encode()) + 5  # the key split across two chunks
    return SSE_HEAD + chunk(data[:cut]) + chunk(data[cut:]) + chunk(b"")


def echo_openai_stream(secret: str) -> bytes:
    pieces = [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "x",
               "choices": [{"index": 0, "delta": {"role": "assistant",
                                                  "content": f"your key is {secret}!"},
                            "finish_reason": None}]},
              {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "x",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
    data = b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in pieces)
    data += b"data: [DONE]\n\n"
    cut = data.index(secret.encode()) + 7
    return SSE_HEAD + chunk(data[:cut]) + chunk(data[cut:]) + chunk(b"")


@pytest.mark.parametrize("surface", ["anthropic", "openai"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_key_quoted_in_a_200_never_reaches_client_recording_or_log(
        surface, kind, stream, raw, make_settings, start_proxy, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("FUSION_TEST_UPSTREAM_KEY", KEY)
    if stream:
        data = echo_anthropic_stream(KEY) if kind == "anthropic" else echo_openai_stream(KEY)
    else:
        data = json_reply(200, answer_for(kind, f"your key is {KEY}!"))
    _, base = await serve_raw(raw, sending(data))
    settings = make_settings(upstreams=[upstream(base, kind)])
    runtime = await start_proxy(settings)
    headers = {"x-fusion-session": "leak"}
    if surface == "anthropic":
        async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                            max_retries=0, default_headers=headers) as client:
            if stream:
                async with client.messages.stream(**QUESTION) as streamed:
                    text = (await streamed.get_final_message()).content[0].text  # type: ignore[union-attr]
            else:
                text = (await client.messages.create(**QUESTION)).content[0].text  # type: ignore[union-attr]
    else:
        async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t",
                                      max_retries=0, default_headers=headers) as oclient:
            if stream:
                parts = []
                async for piece in await oclient.chat.completions.create(**CHAT, stream=True):
                    if piece.choices and piece.choices[0].delta.content:
                        parts.append(piece.choices[0].delta.content)
                text = "".join(parts)
            else:
                whole = await oclient.chat.completions.create(**CHAT)
                text = whole.choices[0].message.content or ""
    assert text.strip() == "your key is [redacted]!"
    runtime.recorder.flush()
    recording = "".join(p.read_text() for p in settings.sessions.path.glob("*.jsonl"))
    assert "[redacted]" in recording and KEY not in recording
    assert KEY not in caplog.text
