"""Upstream faults: the client always gets a complete answer (failover before its first byte)
or a clean protocol error (after it), never a normal finish of a broken stream. Client
disconnects are in test_disconnect.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from fusion_tui.events import Event
from tests.support.fake_openai import FakeOpenAI, running
from tests.support.http import call
from tests.support.raw_server import (
    SSE_HEAD,
    RawServer,
    Script,
    chunk,
    json_reply,
    refused_url,
    serve_raw,
    sse,
    until_closed,
)

QUESTION: dict[str, Any] = {"model": "m", "max_tokens": 50,
                            "messages": [{"role": "user", "content": "hi"}]}
ASK = {**QUESTION, "stream": True}
CHAT: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
START = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":'
         b'"message","role":"assistant","model":"x","content":[],"stop_reason":null,'
         b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n')
ANTHROPIC_ERROR = {"type": "error", "error": {"type": "api_error", "message": "busy"}}
TIMEOUT_S = 0.3


def upstream(base: str, uid: str = "raw", kind: str = "anthropic",
             timeout_s: float = 5) -> dict[str, Any]:
    return {"id": uid, "type": kind, "base_url": base, "model": "x", "timeout_s": timeout_s}


def listen(runtime: Any) -> list[Event]:
    seen: list[Event] = []
    runtime.bus.listen(seen.append)
    return seen


def failure_of(seen: list[Event], uid: str) -> Any:
    return next(e for e in seen if e.kind == "upstream_failed"
                and e.upstream_id == uid)  # type: ignore[attr-defined]


def recorded(runtime: Any, session: str) -> list[dict[str, Any]]:
    runtime.recorder.flush()
    path = runtime.state.settings.sessions.path / f"{session}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await until_closed(reader)


def answering(first: bytes) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(first)
        await writer.drain()
        await until_closed(reader)

    return script


# Each fault: the first upstream's script (None: nothing listens) and what its failure says.
FAULTS: dict[str, tuple[Script | None, str]] = {
    "refused": (None, "ClientConnectorError"),
    "no_headers": (hold, f"no answer within {TIMEOUT_S:g}s"),
    "429": (answering(json_reply(429, ANTHROPIC_ERROR, {"retry-after": "30"})), "HTTP 429"),
    "5xx": (answering(json_reply(503, ANTHROPIC_ERROR)), "HTTP 503"),
    "stall_after_headers": (answering(SSE_HEAD), "idle|stalled"),
}


def timeout_for(fault: str) -> float:
    """The faulty member's timeout: short only where the fault is about time; a refusal, a
    429 or a 5xx answers at once, so a loaded machine cannot turn them into a timeout."""
    return TIMEOUT_S if fault in ("no_headers", "stall_after_headers") else 30.0


async def faulty_base(raw: list[RawServer], fault: str) -> str:
    script = FAULTS[fault][0]
    return refused_url() if script is None else (await serve_raw(raw, script))[1]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_anthropic_client_gets_the_good_answer_when_the_first_upstream_faults(
        fault, stream, make_settings, start_proxy, raw, fake_anthropic):
    fake, good = fake_anthropic
    bad = await faulty_base(raw, fault)
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(bad, "bad", timeout_s=timeout_for(fault)), upstream(good, "good")],
        pools={"actor": ["bad", "good"]}, routing={"failover": {"max_retry_wait_s": 1}}))
    seen = listen(runtime)
    began = time.monotonic()
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        if stream:
            async with client.messages.stream(**QUESTION) as streamed:
                message = await streamed.get_final_message()
                headers = streamed.response.headers
        else:
            raw_reply = await client.messages.with_raw_response.create(**QUESTION)
            message, headers = await raw_reply.parse(), raw_reply.headers
    assert time.monotonic() - began < 2  # no Retry-After wait while another member is left
    assert message.content[0].text.strip() == fake.text  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert headers["x-fusion-route"] == "mode=single; tier=-; served_by=good; reason=failover:bad"
    failed = failure_of(seen, "bad")
    assert failed.will_retry
    expected = FAULTS[fault][1]
    assert any(part in failed.error for part in expected.split("|")), failed.error
    if fault == "stall_after_headers" and stream:
        assert "stream idle" in failed.error  # the first-event peek timed out, then failover


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("fault", ["refused", "stall_after_headers"])
async def test_openai_client_gets_the_good_answer_when_the_first_upstream_faults(
        fault, stream, make_settings, start_proxy, raw):
    bad = await faulty_base(raw, fault)
    fake = FakeOpenAI()
    async with running(fake) as good:
        runtime = await start_proxy(make_settings(
            upstreams=[upstream(bad, "bad", "openai-compatible", timeout_for(fault)),
                       upstream(good, "good", "openai-compatible")],
            pools={"actor": ["bad", "good"]}))
        seen = listen(runtime)
        async with openai.AsyncOpenAI(base_url=f"{runtime.address}/v1", api_key="t",
                                      max_retries=0) as client:
            raw_reply = await client.chat.completions.with_raw_response.create(
                **CHAT, stream=stream)
            parsed: Any = raw_reply.parse()
            if stream:
                text = "".join([c.choices[0].delta.content or "" async for c in parsed
                                if c.choices])
            else:
                text = parsed.choices[0].message.content
    assert text == fake.text
    assert raw_reply.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=good; reason=failover:bad")
    assert any(p in failure_of(seen, "bad").error
               for p in FAULTS[fault][1].split("|"))


async def test_retry_after_on_the_last_member_is_waited_out_when_short(make_settings,
                                                                      start_proxy, raw):
    message = {"id": "m", "type": "message", "role": "assistant", "model": "x",
               "content": [{"type": "text", "text": "second time lucky"}],
               "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 3}}

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(server.requests) == 1:
            writer.write(json_reply(429, ANTHROPIC_ERROR, {"retry-after": "0.3"}))
        else:
            writer.write(json_reply(200, message))
        await writer.drain()

    server, base = await serve_raw(raw, script)
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base)], routing={"failover": {"max_retry_wait_s": 1}}))
    began = time.monotonic()
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=QUESTION)
    waited = time.monotonic() - began
    assert reply.status == 200 and reply.json()["content"][0]["text"] == "second time lucky"
    assert len(server.requests) == 2 and 0.3 <= waited < 1.5


async def test_retry_after_beyond_max_retry_wait_is_relayed_at_once(make_settings,
                                                                   start_proxy, raw):
    server, base = await serve_raw(raw, answering(
        json_reply(429, ANTHROPIC_ERROR, {"retry-after": "30"})))
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base)], routing={"failover": {"max_retry_wait_s": 1}}))
    began = time.monotonic()
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=QUESTION)
    assert time.monotonic() - began < 1
    assert reply.status == 429 and reply.headers["retry-after"] == "30"
    assert len(server.requests) == 1


async def test_no_response_headers_within_the_timeout_is_a_504(make_settings, start_proxy, raw):
    _, base = await serve_raw(raw, hold)
    runtime = await start_proxy(make_settings(upstreams=[upstream(base, timeout_s=0.3)]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.status == 504
    assert "no answer within 0.3s" in reply.json()["error"]["message"]


async def test_stall_mid_stream_is_an_error_event_after_the_idle_timeout(make_settings,
                                                                        start_proxy, raw):
    _, base = await serve_raw(raw, answering(SSE_HEAD + chunk(START)))
    runtime = await start_proxy(make_settings(upstreams=[upstream(base, timeout_s=0.3)]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.text.startswith("event: message_start")
    assert "event: error" in reply.text and "idle" in reply.text


# Malformed events: data that is not a JSON object.

def delta(text: str) -> bytes:
    return sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                       "delta": {"type": "text_delta", "text": text}})


ANTHROPIC_END = (sse("content_block_stop", {"type": "content_block_stop", "index": 0})
                 + sse("message_delta", {"type": "message_delta",
                                         "delta": {"stop_reason": "end_turn"},
                                         "usage": {"output_tokens": 2}})
                 + sse("message_stop", {"type": "message_stop"}) + chunk(b""))


def chat_chunk(**delta_fields: Any) -> bytes:
    finish = delta_fields.pop("finish", None)
    return sse(None, {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "x",
                      "choices": [{"index": 0, "delta": delta_fields,
                                   "finish_reason": finish}]})


CHAT_END = chat_chunk(finish="stop") + chunk(b"data: [DONE]\n\n") + chunk(b"")


def in_steps(*parts: bytes) -> Script:
    """Send each part as its own write, a moment apart, so each reaches the proxy alone."""
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for part in parts:
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.05)

    return script


GARBAGE = [b"{not json", b"[1, 2]"]


@pytest.mark.parametrize("garbage", GARBAGE, ids=["not_json", "not_an_object"])
async def test_anthropic_garbage_first_event_fails_over(garbage, make_settings, start_proxy,
                                                        raw, fake_anthropic):
    fake, good = fake_anthropic
    _, bad = await serve_raw(raw, in_steps(SSE_HEAD + sse(None, garbage) + chunk(START),
                                           ANTHROPIC_END))
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(bad, "bad"), upstream(good, "good")],
        pools={"actor": ["bad", "good"]}))
    seen = listen(runtime)
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        async with client.messages.stream(**QUESTION) as streamed:
            message = await streamed.get_final_message()
            route = streamed.response.headers["x-fusion-route"]
    assert message.content[0].text.strip() == fake.text  # type: ignore[union-attr]
    assert route.endswith("served_by=good; reason=failover:bad")
    assert "malformed first event" in failure_of(seen, "bad").error


async def test_garbage_first_event_of_the_only_member_is_a_clean_error(make_settings,
                                                                       start_proxy, raw):
    _, base = await serve_raw(raw, in_steps(SSE_HEAD + sse(None, b"{not json"), ANTHROPIC_END))
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.status == 502 and reply.json()["type"] == "error"
    assert "malformed first event" in reply.json()["error"]["message"]


def garbage_after(opening: bytes, garbage: bytes, rest: bytes, gate: asyncio.Event) -> Script:
    """Send `opening`; once the test has seen it reach the client (`gate`), the garbage alone;
    then, unless the proxy hangs up within a second, `rest` (a valid ending)."""
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(opening)
        await writer.drain()
        await gate.wait()
        gate.clear()
        writer.write(sse(None, garbage))
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until_closed(reader), 1)
            return
        writer.write(rest)
        await writer.drain()

    return script


async def read_past_garbage(url: str, body: dict[str, Any], session: str,
                            gate: asyncio.Event) -> str:
    """A streamed answer as raw text: read until "before" arrives, let the upstream send its
    garbage (`gate`), then read to the end."""
    async with aiohttp.ClientSession() as client, client.post(
            url, json=body, headers={"x-fusion-session": session}) as resp:
        seen = ""
        while "before" not in seen:
            seen += (await resp.content.readany()).decode()
        gate.set()
        return seen + (await resp.read()).decode()


@pytest.mark.parametrize("garbage", GARBAGE, ids=["not_json", "not_an_object"])
async def test_anthropic_garbage_mid_stream_is_an_error_event_not_a_finish(
        garbage, make_settings, start_proxy, raw):
    opening = SSE_HEAD + chunk(START) + sse("content_block_start", {
        "type": "content_block_start", "index": 0,
        "content_block": {"type": "text", "text": ""}}) + delta("before ")
    gate = asyncio.Event()
    server, base = await serve_raw(raw, garbage_after(opening, garbage,
                                                      delta("after") + ANTHROPIC_END, gate))
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    events = []
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError, match="malformed event"):
            async with client.messages.stream(
                    **QUESTION, extra_headers={"x-fusion-session": "bad-sse"}) as streamed:
                async for event in streamed:
                    events.append(event.type)
                    if event.type == "text":
                        gate.set()
    assert "text" in events and "message_stop" not in events
    assert await server.all_closed(0.5)  # the proxy let go of the broken stream at once
    async with aiohttp.ClientSession() as session, session.post(
            runtime.address + "/v1/messages", json=ASK) as resp:
        seen = ""
        while "before" not in seen:
            seen += (await resp.content.readany()).decode()
        gate.set()
        seen += (await resp.read()).decode()
    assert "after" not in seen and "message_stop" not in seen
    assert seen.rstrip().split("\n")[-2] == "event: error"
    finished = [e for e in recorded(runtime, "bad-sse") if e["kind"] == "response_finished"]
    assert finished[0]["status"] == 502 and "malformed event" in finished[0]["error"]


async def test_openai_garbage_first_event_fails_over(make_settings, start_proxy, raw):
    _, bad = await serve_raw(raw, in_steps(SSE_HEAD + sse(None, b"{not json"), CHAT_END))
    fake = FakeOpenAI()
    async with running(fake) as good:
        runtime = await start_proxy(make_settings(
            upstreams=[upstream(bad, "bad", "openai-compatible"),
                       upstream(good, "good", "openai-compatible")],
            pools={"actor": ["bad", "good"]}))
        seen = listen(runtime)
        reply = await call(runtime.address, "POST", "/v1/chat/completions",
                           json_body={**CHAT, "stream": True})
    assert reply.status == 200 and reply.text.rstrip().endswith("data: [DONE]")
    assert reply.headers["x-fusion-route"].endswith("served_by=good; reason=failover:bad")
    assert "malformed first event" in failure_of(seen, "bad").error


@pytest.mark.parametrize("garbage", GARBAGE, ids=["not_json", "not_an_object"])
async def test_openai_garbage_mid_stream_is_an_error_chunk_not_a_finish(
        garbage, make_settings, start_proxy, raw):
    gate = asyncio.Event()
    server, base = await serve_raw(raw, garbage_after(
        SSE_HEAD + chat_chunk(role="assistant", content="before "), garbage,
        chat_chunk(content="after") + CHAT_END, gate))
    runtime = await start_proxy(make_settings(
        upstreams=[upstream(base, kind="openai-compatible")]))
    seen = await read_past_garbage(runtime.address + "/v1/chat/completions",
                                   {**CHAT, "stream": True}, "bad-chat", gate)
    assert await server.all_closed(0.5)
    assert "after" not in seen and "[DONE]" not in seen
    last = json.loads(seen.rstrip().rsplit("data: ", 1)[1])
    assert "malformed event" in last["error"]["message"]
    finished = [e for e in recorded(runtime, "bad-chat") if e["kind"] == "response_finished"]
    assert finished[0]["status"] == 502 and "malformed event" in finished[0]["error"]


@pytest.mark.parametrize("client", ["openai_client", "anthropic_client"])
async def test_translated_stream_with_garbage_mid_way_ends_in_an_error(
        client, make_settings, start_proxy, raw):
    """Across protocols the translator judges the stream too: the OpenAI client of an
    Anthropic upstream (and the other way round) gets the protocol's error, not a finish."""
    gate = asyncio.Event()
    if client == "openai_client":
        opening = SSE_HEAD + chunk(START) + sse("content_block_start", {
            "type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}) + delta("before ")
        script = garbage_after(opening, b"{not json", delta("after") + ANTHROPIC_END, gate)
        kind, path, body, end = "anthropic", "/v1/chat/completions", CHAT, "[DONE]"
    else:
        script = garbage_after(SSE_HEAD + chat_chunk(role="assistant", content="before "),
                               b"{not json", chat_chunk(content="after") + CHAT_END, gate)
        kind, path, body, end = "openai-compatible", "/v1/messages", QUESTION, "message_stop"
    server, base = await serve_raw(raw, script)
    runtime = await start_proxy(make_settings(upstreams=[upstream(base, kind=kind)]))
    seen = await read_past_garbage(runtime.address + path, {**body, "stream": True},
                                   "bad-translated", gate)
    assert await server.all_closed(0.5)
    assert "after" not in seen and end not in seen
    assert "malformed event" in seen.rstrip().rsplit("data: ", 1)[1]
    finished = [e for e in recorded(runtime, "bad-translated")
                if e["kind"] == "response_finished"]
    assert finished[0]["status"] == 502 and "malformed event" in finished[0]["error"]
