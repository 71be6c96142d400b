"""Sans-IO pieces of the request hot path: a client body's bytes, the peeked stream, the SSE
parser's fast shapes and the text-delta check (each must say exactly what the slow path
says)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.answers import MalformedUpstream, check_event
from fusion_tui.protocols.sse import SSEEvent, SSEParser, checked_frames
from fusion_tui.protocols.wire import Wire
from fusion_tui.routing.failover import _peek
from fusion_tui.upstreams.anthropic import apply_limits
from fusion_tui.upstreams.base import ClientBody, UpstreamReply, wire_bytes
from tests.support.streams import ScriptedStream

RAW = b'{"model": "m",  "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}'


def client_body() -> ClientBody:
    return ClientBody(orjson.loads(RAW), RAW)


def test_an_unchanged_client_body_is_sent_as_its_own_bytes() -> None:
    assert wire_bytes(client_body()) == RAW
    assert wire_bytes(orjson.loads(RAW)) == orjson.dumps(orjson.loads(RAW))


@pytest.mark.parametrize("change", [
    lambda b: b.__setitem__("model", "x"), lambda b: b.__delitem__("model"),
    lambda b: b.pop("model"), lambda b: b.popitem(), lambda b: b.setdefault("stream", True),
    lambda b: b.update(model="x"), lambda b: b.clear(), lambda b: b.__ior__({"model": "x"})])
def test_a_changed_client_body_forgets_its_bytes(change: Any) -> None:
    body = client_body()
    change(body)
    assert body.raw is None
    assert wire_bytes(body) == orjson.dumps(dict(body))


def test_copies_of_a_client_body_are_plain_or_forget_the_bytes() -> None:
    body = client_body()
    assert type(dict(body)) is dict and type({**body}) is dict
    assert copy.copy(body).raw is None and copy.deepcopy(body).raw is None
    assert body.raw == RAW and body == orjson.loads(RAW)


def settings(**extra: Any) -> UpstreamSettings:
    return UpstreamSettings(**{"id": "u", "type": "anthropic",
                               "base_url": "http://127.0.0.1:1", "model": "m", **extra})


def test_limits_keep_the_body_itself_when_nothing_changes() -> None:
    body = client_body()
    assert apply_limits(body, settings()) is body
    assert apply_limits(body, settings(max_output_tokens=10)) is body
    clamped = apply_limits(body, settings(max_output_tokens=5))
    assert type(clamped) is dict and clamped["max_tokens"] == 5 and body["max_tokens"] == 10
    renamed = apply_limits(body, settings(model="n"))
    assert type(renamed) is dict and renamed["model"] == "n" and body.raw == RAW
    effort = apply_limits(body, settings(reasoning_effort="low"))
    assert effort["output_config"] == {"effort": "low"}


@pytest.mark.parametrize("block", [
    b"event: message_start\ndata: {\"a\": 1}", b"data: {\"a\": 1}", b"event: ping",
    b"event:  two spaces\ndata: x", b"event: e:f\ndata: a: b", b"data: ", b"event: e\ndata: ",
    b"event: e\ndata: one\ndata: two", b"data: one\ndata: two", b": comment\ndata: x",
    b"data:nospace", b"event: e\r\ndata: crlf", b"id: 1\nevent: e\ndata: x"])
def test_the_sse_parsers_fast_shapes_parse_as_the_general_rules_do(block: bytes) -> None:
    def general(raw: bytes) -> SSEEvent | None:
        name, data, ident = "", [], ""
        for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
            if not line or line.startswith(b":"):
                continue
            field, _, value = line.partition(b":")
            value = value[1:] if value.startswith(b" ") else value
            if field == b"data":
                data.append(value.decode())
            elif field == b"event":
                name = value.decode()
            elif field == b"id":
                ident = value.decode()
        return SSEEvent(name, "\n".join(data), ident) if data or name else None

    expected = general(block)
    assert SSEParser().feed(block + b"\n\n") == ([expected] if expected else [])


@pytest.mark.parametrize("payload", [
    {"type": "content_block_delta", "index": "0", "delta": {"type": "text_delta", "text": "a"}},
    {"type": "content_block_delta", "index": -1, "delta": {"type": "text_delta", "text": "a"}},
    {"type": "content_block_delta", "index": True, "delta": {"type": "text_delta", "text": "a"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 5}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta",
                                                          "partial_json": 5}},
    {"type": "content_block_delta", "index": 0, "delta": "text"}])
def test_a_bad_content_block_delta_is_refused_past_the_fast_path(payload: Any) -> None:
    with pytest.raises(MalformedUpstream):
        check_event(Wire.ANTHROPIC, "content_block_delta", payload)


def test_a_plain_text_delta_passes() -> None:
    check_event(Wire.ANTHROPIC, "content_block_delta", {
        "type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": "a", "extra": 1}, "more": None})


async def drain(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


async def test_a_checked_stream_is_peeked_without_parsing_again() -> None:
    """Checked frames carry their events: the peek reads them, not the bytes (these bytes
    would not even parse), and hands every chunk back in order."""
    ping = checked_frames(b"not sse at all", [(SSEEvent("ping", ""), None)])
    first = checked_frames(b"still not sse", [(SSEEvent("message_start", "{}"), {})])
    source = ScriptedStream(ping, first, b"rest")
    reply = await _peek(UpstreamReply(200, stream=source))
    assert reply.stream is not None
    assert await drain(reply.stream) == [ping, first, b"rest"]


async def test_a_peeked_stream_closes_the_stream_underneath() -> None:
    source = ScriptedStream(b"event: a\ndata: {}\n\n", b"event: b\ndata: {}\n\n")
    reply = await _peek(UpstreamReply(200, stream=source))
    assert reply.stream is not None
    assert await reply.stream.__anext__() == b"event: a\ndata: {}\n\n"
    await reply.stream.aclose()  # type: ignore[attr-defined]
    assert source.closed


def test_an_openai_body_is_kept_itself_when_nothing_changes() -> None:
    from fusion_tui.upstreams.openai import OpenAIUpstream

    raw = b'{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}'

    def prepared(**extra: Any) -> dict[str, Any]:
        upstream = OpenAIUpstream(UpstreamSettings(**{
            "id": "u", "type": "openai-compatible", "base_url": "http://127.0.0.1:1",
            "model": "m", **extra}))
        return upstream.prepare(ClientBody(orjson.loads(raw), raw))

    assert wire_bytes(prepared()) == raw
    assert wire_bytes(prepared(max_output_tokens=10)) == raw
    assert prepared(max_output_tokens=5)["max_tokens"] == 5
    assert prepared(model="n")["model"] == "n"
    assert prepared(reasoning_effort="low")["reasoning_effort"] == "low"
    no_limit = OpenAIUpstream(UpstreamSettings(
        id="u", type="openai-compatible", base_url="http://127.0.0.1:1", model="m",
        max_output_tokens=7)).prepare({"model": "m", "messages": []})
    assert no_limit["max_tokens"] == 7
