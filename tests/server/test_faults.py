"""Upstream and client faults: the client always gets a complete answer (failover before its
first byte) or a clean protocol error (after it); a client that leaves cancels everything."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.http import call
from tests.support.raw_server import SSE_HEAD, RawServer, chunk

ASK = {"model": "m", "max_tokens": 50, "stream": True,
       "messages": [{"role": "user", "content": "hi"}]}
START = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":'
         b'"message","role":"assistant","model":"x","content":[],"stop_reason":null,'
         b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n')


@pytest.fixture
async def raw() -> AsyncIterator[list[RawServer]]:
    servers: list[RawServer] = []
    yield servers
    for server in servers:
        await server.stop()


async def serve_raw(raw: list[RawServer], script: Any) -> tuple[RawServer, str]:
    server = RawServer(script)
    raw.append(server)
    return server, await server.start()


def upstream(base: str, timeout_s: float = 5) -> dict[str, Any]:
    return {"id": "raw", "type": "anthropic", "base_url": base, "model": "x",
            "timeout_s": timeout_s}


async def test_malformed_sse_is_an_error_event(make_settings, start_proxy, raw):
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + chunk(START) + chunk(b"data: {not json\n\ngarbage\n\n")
                     + chunk(b"") )
        await writer.drain()

    _, base = await serve_raw(raw, script)
    runtime = await start_proxy(make_settings(upstreams=[upstream(base)]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.status == 200
    assert "event: error" in reply.text and "ended before message_stop" in reply.text


async def test_no_response_headers_within_the_timeout_is_a_504(make_settings, start_proxy, raw):
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    _, base = await serve_raw(raw, script)
    runtime = await start_proxy(make_settings(upstreams=[upstream(base, timeout_s=0.3)]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.status == 504
    assert "no answer within 0.3s" in reply.json()["error"]["message"]


async def test_stall_mid_stream_is_an_error_event_after_the_idle_timeout(make_settings,
                                                                        start_proxy, raw):
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + chunk(START))
        await writer.drain()
        await asyncio.sleep(5)

    _, base = await serve_raw(raw, script)
    runtime = await start_proxy(make_settings(upstreams=[upstream(base, timeout_s=0.3)]))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.text.startswith("event: message_start")
    assert "event: error" in reply.text and "idle" in reply.text


async def test_client_leaving_mid_stream_releases_the_upstream_and_is_recorded(
        make_settings, start_proxy, raw):
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + chunk(START))
        await writer.drain()
        for i in range(100):
            await asyncio.sleep(0.05)
            delta = {"type": "content_block_delta", "index": 0,
                     "delta": {"type": "text_delta", "text": f"t{i} "}}
            writer.write(chunk(f"event: content_block_delta\ndata: {json.dumps(delta)}\n\n"
                               .encode()))
            await writer.drain()

    server, base = await serve_raw(raw, script)
    settings = make_settings(upstreams=[upstream(base)])
    runtime = await start_proxy(settings)
    seen: list[Any] = []
    runtime.bus.listen(seen.append)
    fds_before = len(os.listdir("/proc/self/fd"))
    async with aiohttp.ClientSession() as session:
        async with session.post(runtime.address + "/v1/messages", json=ASK,
                                headers={"x-fusion-session": "leaver"}) as resp:
            await resp.content.readline()
        left_at = asyncio.get_running_loop().time()
    for _ in range(100):
        if server.closed:
            break
        await asyncio.sleep(0.02)
    assert server.closed and server.closed[0] - left_at < 1.5  # upstream connection released
    kinds = [e.kind for e in seen]
    assert "request_cancelled" in kinds
    finished = next(e for e in seen if e.kind == "response_finished")
    assert finished.status == 499 and finished.error == "client disconnected"
    runtime.recorder.flush()
    recorded = (settings.sessions.path / "leaver.jsonl").read_text()
    assert '"kind":"request_cancelled"' in recorded
    assert runtime.state.controls.inflight == {}
    await asyncio.sleep(0.1)
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 1
