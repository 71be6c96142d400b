"""Client mistakes get a 4xx in the protocol's JSON shape, never a 500, and cost the log one
line, never a traceback: wrong types on the Responses surface, bad base64 images, a false
content-encoding, a key that is not UTF-8, requests aiohttp cannot parse, slow heads and
bodies, clients that hang up mid-stream."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import openai
import pytest

from tests.support.http import call

PLAIN = {"model": "m", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
SURFACES = {"anthropic": ("/v1/messages", PLAIN),
            "openai": ("/v1/chat/completions",
                       {"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            "responses": ("/v1/responses", {"model": "m", "input": "hi"})}


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    noisy = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not noisy, [r.getMessage() for r in noisy]


def error_message(status_expected: int, reply: Any) -> str:
    assert reply.status == status_expected, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    return str(reply.json()["error"]["message"])


BAD_RESPONSES = [
    ({"text": "plain"}, "text"),
    ({"text": {"format": "json"}}, "text.format"),
    ({"text": {"format": {"type": 5}}}, "text.format.type"),
    ({"temperature": "hot"}, "temperature"),
    ({"top_p": True}, "top_p"),
    ({"reasoning": "high"}, "reasoning"),
    ({"reasoning": {"effort": 3}}, "reasoning.effort"),
    ({"tool_choice": 1}, "tool_choice"),
    ({"metadata": []}, "metadata"),
    ({"input": [{"type": "reasoning", "id": "r", "summary": "thought"},
                {"role": "user", "content": "hi"}]}, "input[0].summary"),
    ({"input": [{"type": "reasoning", "id": "r", "summary": [{"text": 1}]},
                {"role": "user", "content": "hi"}]}, "input[0].summary[0]"),
    ({"input": [{"role": "user", "content": [{"type": "input_text", "text": 7}]}]},
     "input[0].content[0].text"),
    ({"input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "data:image/png;base64,!!not base64!!"}]}]},
     "input[0].content[0].image_url"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": 5}]}]},
     "input[0].content[0].image_url"),
]


@pytest.mark.parametrize("extra,param", BAD_RESPONSES, ids=[p for _, p in BAD_RESPONSES])
async def test_responses_wrong_types_are_400_naming_the_field(
        extra, param, make_settings, start_proxy, caplog):
    runtime = await start_proxy(make_settings())
    reply = await call(runtime.address, "POST", "/v1/responses",
                       json_body={"model": "m", "input": "hi", **extra})
    error_message(400, reply)
    assert reply.json()["error"]["param"] == param
    no_tracebacks(caplog)


async def test_the_sdk_sees_a_bad_request_for_a_bad_image(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t",
                                  max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as info:
            await client.responses.create(model="m", input=[{"role": "user", "content": [
                {"type": "input_image", "image_url": "data:image/png;base64,%%%",
                 "detail": "auto"}]}])
    assert "not valid base64" in str(info.value)


@pytest.mark.parametrize("surface", list(SURFACES))
async def test_a_false_content_encoding_is_a_400(surface, make_settings, start_proxy, caplog):
    caplog.set_level(logging.INFO)
    runtime = await start_proxy(make_settings())
    path, body = SURFACES[surface]
    reply = await call(runtime.address, "POST", path, data=json.dumps(body).encode(),
                       headers={"content-type": "application/json",
                                "content-encoding": "gzip"})
    assert "request body cannot be read" in error_message(400, reply)
    await asyncio.sleep(0.05)
    no_tracebacks(caplog)


async def raw_exchange(address: str, data: bytes, wait_s: float = 5.0) -> bytes:
    host, port = address.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        await writer.drain()
        data = b""
        async with asyncio.timeout(wait_s):
            while chunk := await reader.read(65536):
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if sep and length is not None and len(body) >= length:
                    break
        return data
    finally:
        writer.close()


def parsed(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, json.loads(body)


def request(body: bytes, *extra: bytes, path: bytes = b"/v1/messages") -> bytes:
    return (b"POST " + path + b" HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + b"".join(extra) + b"content-length: %d\r\n\r\n" % len(body) + body)


async def test_a_key_that_is_not_utf8_is_a_401(make_settings, start_proxy, monkeypatch, caplog):
    monkeypatch.setenv("FUSION_TEST_CLIENT_KEY", "the-right-key")
    runtime = await start_proxy(make_settings(server={
        "host": "127.0.0.1", "port": 0, "auth_key_env": "FUSION_TEST_CLIENT_KEY"}))
    for path in (b"/v1/messages", b"/v1/chat/completions", b"/v1/responses"):
        raw = await raw_exchange(runtime.address, request(
            json.dumps(PLAIN).encode(), b"x-api-key: \xff\xfe-key\r\nconnection: close\r\n",
            path=path))
        status, headers, body = parsed(raw)
        assert status == 401 and headers["content-type"].startswith("application/json")
        assert "wrong API key" in body["error"]["message"]
    no_tracebacks(caplog)


PARSER_FAULTS = {
    "huge_header": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 20000
                   + b"\r\ncontent-length: 0\r\n\r\n",
    "too_many_headers": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n"
                        + b"".join(b"x-h%d: 1\r\n" % i for i in range(300))
                        + b"content-length: 0\r\n\r\n",
    "invalid_method": b"P@ST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
    "bad_chunk_framing": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n"
                         b"transfer-encoding: chunked\r\n\r\nzz\r\n",
    "not_http": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
}


@pytest.mark.parametrize("fault", list(PARSER_FAULTS))
async def test_parser_errors_are_json_and_one_log_line(fault, make_settings, start_proxy,
                                                       caplog):
    caplog.set_level(logging.DEBUG)
    runtime = await start_proxy(make_settings())
    status, headers, body = parsed(await raw_exchange(runtime.address, PARSER_FAULTS[fault]))
    assert status == 400 and headers["content-type"].startswith("application/json")
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"] and "param" in body["error"]  # both SDKs read it
    no_tracebacks(caplog)
    assert [r for r in caplog.records if r.name == "fusion_tui.server.protocol"]


async def test_a_head_that_never_ends_is_closed_at_the_header_timeout(
        make_settings, start_proxy):
    runtime = await start_proxy(make_settings(server={
        "host": "127.0.0.1", "port": 0, "header_timeout_s": 0.3}))
    host, port = runtime.address.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n")
    await writer.drain()
    closed = False
    for _ in range(50):  # slowloris: one header line every 0.1 s, for at most 5 s
        try:
            writer.write(b"x-a: b\r\n")
            await writer.drain()
            closed = await asyncio.wait_for(reader.read(1), 0.1) == b""
        except TimeoutError:
            continue
        except ConnectionError:
            closed = True
        if closed:
            break
    writer.close()
    assert closed


@pytest.mark.parametrize("surface", list(SURFACES))
async def test_a_body_that_never_ends_is_a_408(surface, make_settings, start_proxy, caplog):
    runtime = await start_proxy(make_settings(server={
        "host": "127.0.0.1", "port": 0, "body_timeout_s": 0.3}))
    path, _ = SURFACES[surface]
    head = (b"POST " + path.encode() + b" HTTP/1.1\r\nhost: x\r\n"
            b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"model\"")
    status, _, body = parsed(await raw_exchange(runtime.address, head))
    assert status == 408 and "server.body_timeout_s" in body["error"]["message"]
    no_tracebacks(caplog)


async def test_a_client_hanging_up_mid_stream_logs_no_traceback(make_settings, start_proxy,
                                                                caplog):
    caplog.set_level(logging.DEBUG)
    runtime = await start_proxy(make_settings(upstreams=[{
        "id": "sim", "type": "simulated", "model": "m", "first_token_ms": 0,
        "tokens_per_s": 50}]))
    host, port = runtime.address.removeprefix("http://").rsplit(":", 1)
    for _ in range(3):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request(json.dumps({**PLAIN, "max_tokens": 500, "stream": True}).encode()))
        await writer.drain()
        await reader.read(200)
        writer.transport.abort()  # a reset, not a clean close
    await asyncio.sleep(0.3)
    no_tracebacks(caplog)
