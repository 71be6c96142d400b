"""Sans-IO: the protocol checks of upstream answers (protocols/answers.py) and the checked
stream (upstreams/checked.py): whole frames only, a bad event stopped before it is passed
on, the events handed over parsed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from fusion_tui.protocols.answers import MalformedUpstream, check_answer, check_event
from fusion_tui.protocols.sse import CheckedFrames
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import ErrorKind, UpstreamError, UpstreamReply
from fusion_tui.upstreams.checked import checked_events, checked_reply
from tests.support.hostile_upstream import sse, stream_events, whole_answer


@pytest.mark.parametrize("wire", list(Wire))
def test_valid_answers_and_events_pass(wire: Wire) -> None:
    check_answer(wire, whole_answer(str(wire), "fine"))
    for name, data in stream_events(str(wire), "fine"):
        if data != "[DONE]":
            check_event(wire, name or "", data)


@pytest.mark.parametrize(("wire", "body", "said"), [
    (Wire.ANTHROPIC, {"type": "message", "content": [{"type": "text", "text": 5}]},
     "answer.content[0].text is int, not a string"),
    (Wire.ANTHROPIC, {"type": "error", "error": {"message": "quota"}},
     "an error object sent as a success: quota"),
    (Wire.OPENAI, {"choices": [{"message": True}]},
     "answer.choices[0].message is bool, not an object"),
    (Wire.OPENAI, {"choices": []}, "answer.choices is empty"),
    (Wire.OPENAI, whole_answer("anthropic", "x"), "answer has no 'choices'"),
    (Wire.RESPONSES, {"object": "response", "output": [{"type": "message", "content": "x"}]},
     "answer.output[0].content is str, not an array"),
    (Wire.RESPONSES, [1, 2], "the answer is list, not a JSON object"),
    (Wire.ANTHROPIC, {"type": "message", "content": [], "usage": {"input_tokens": True}},
     "answer.usage.input_tokens is bool, not a non-negative integer"),
])
def test_wrong_answers_name_the_field(wire: Wire, body: Any, said: str) -> None:
    with pytest.raises(MalformedUpstream) as caught:
        check_answer(wire, body)
    assert str(caught.value) == said


@pytest.mark.parametrize(("wire", "name", "payload", "said"), [
    (Wire.ANTHROPIC, "content_block_delta", {"type": "content_block_delta", "index": None},
     "content_block_delta.index is null, not a non-negative integer"),
    (Wire.ANTHROPIC, "content_block_delta",
     {"type": "content_block_delta", "index": 0, "delta": "a string"},
     "content_block_delta.delta is str, not an object"),
    (Wire.OPENAI, "", {"choices": ["x"]}, "chunk.choices[0] is str, not an object"),
    (Wire.OPENAI, "", {"choices": [{"delta": {"content": [{"type": "text"}]}}]},
     "chunk.choices[0].delta.content is list, not a string or null"),
    (Wire.RESPONSES, "", {"type": "response.output_text.delta", "delta": 5},
     "response.output_text.delta.delta is int, not a string"),
])
def test_wrong_events_name_the_field(wire: Wire, name: str, payload: dict[str, Any],
                                     said: str) -> None:
    with pytest.raises(MalformedUpstream) as caught:
        check_event(wire, name, payload)
    assert str(caught.value) == said


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _drain(parts: list[bytes], wire: Wire) -> list[bytes]:
    return [chunk async for chunk in checked_events(_chunks(parts), wire, "up")]


def test_only_whole_frames_pass_and_a_cut_event_is_left_behind() -> None:
    frames = [sse(n, d) for n, d in stream_events("anthropic", "hello")]
    raw = b"".join(frames[:3])
    cut = len(frames[0]) + 7
    out = asyncio.run(_drain([raw[:cut], raw[cut:], frames[3][:10]], Wire.ANTHROPIC))
    assert b"".join(out) == raw  # the half of frames[3] never passes
    assert all(isinstance(c, CheckedFrames) for c in out)
    names = [e.event for c in out for e, _ in c.events]  # type: ignore[attr-defined]
    assert names == ["message_start", "content_block_start", "content_block_delta"]


def test_crlf_frames_pass_whole() -> None:
    raw = b"".join(sse(n, d) for n, d in stream_events("openai", "hi")).replace(b"\n", b"\r\n")
    out = asyncio.run(_drain([raw[:17], raw[17:]], Wire.OPENAI))
    assert b"".join(out) == raw


def test_a_bad_event_stops_the_stream_before_it_is_passed_on() -> None:
    events = stream_events("anthropic", "hello")
    events[2] = (events[2][0], {**events[2][1], "index": None})
    frames = [sse(n, d) for n, d in events]
    seen: list[bytes] = []

    async def run() -> None:
        async for chunk in checked_events(_chunks(frames), Wire.ANTHROPIC, "up"):
            seen.append(chunk)

    with pytest.raises(UpstreamError) as caught:
        asyncio.run(run())
    assert caught.value.kind == ErrorKind.MALFORMED
    assert "malformed event (anthropic stream)" in str(caught.value)
    assert b"".join(seen) == frames[0] + frames[1]


@pytest.mark.parametrize(("body", "said"), [
    (b"", "with an empty body"), (b"<html>", "not JSON ('<html>')"),
    (b'{"error": {"message": "quota"}}', "an error object sent as a success: quota")])
def test_a_200_that_is_not_an_answer_is_malformed(body: bytes, said: str) -> None:
    reply = UpstreamReply(200, {"content-type": "application/json"}, body=body)
    with pytest.raises(UpstreamError) as caught:
        asyncio.run(checked_reply(reply, Wire.OPENAI, "up"))
    assert caught.value.kind == ErrorKind.MALFORMED and said in str(caught.value)
    assert caught.value.http_status() == 502


def test_error_answers_pass_unchanged() -> None:
    reply = UpstreamReply(429, {}, body=b"<html>slow down</html>")
    assert asyncio.run(checked_reply(reply, Wire.ANTHROPIC, "up")) is reply
