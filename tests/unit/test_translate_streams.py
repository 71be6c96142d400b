"""Streams translated in both directions: event order, tool-call ids, argument JSON in
pieces, stop reasons, usage, errors and cuts (never a fake normal finish)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from fusion_tui.protocols.anthropic import MessageAccumulator
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.openai import ChatAccumulator
from fusion_tui.protocols.sse import SSEParser, encode_sse
from fusion_tui.protocols.translation import translate_stream
from fusion_tui.protocols.wire import Wire


async def chunks_of(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    """The bytes in awkward small pieces, as a network would split them."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in stream])


def oai_frames(deltas: list[dict[str, Any]], finish: str | None, usage: dict[str, Any] | None,
               done: bool = True) -> bytes:
    base = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "gpt"}
    out = b"".join(b"data: " + json.dumps({**base, "choices": [
        {"index": 0, "delta": d, "finish_reason": None}]}).encode() + b"\n\n" for d in deltas)
    if finish:
        out += b"data: " + json.dumps({**base, "choices": [
            {"index": 0, "delta": {}, "finish_reason": finish}]}).encode() + b"\n\n"
    if usage:
        out += b"data: " + json.dumps({**base, "choices": [], "usage": usage}).encode() + b"\n\n"
    return out + (b"data: [DONE]\n\n" if done else b"")


def anthropic_events(raw: bytes) -> tuple[list[str], MessageAccumulator]:
    acc = MessageAccumulator()
    names = []
    for event in SSEParser().feed(raw):
        payload = event.json()
        names.append(event.event)
        acc.add(event.event, payload)
    return names, acc


USAGE = {"prompt_tokens": 50, "completion_tokens": 8,
         "prompt_tokens_details": {"cached_tokens": 20}}


async def test_openai_text_reasoning_and_parallel_tools_to_anthropic():
    raw = oai_frames([
        {"role": "assistant", "content": ""},
        {"reasoning_content": "let me "}, {"reasoning_content": "see"},
        {"content": "Reading "}, {"content": "both."},
        {"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                         "function": {"name": "Read", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "{\"p\":"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "\"/a\"}"}}]},
        {"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                         "function": {"name": "Read", "arguments": "{\"p\":\"/b\"}"}}]},
    ], "tool_calls", USAGE)
    notes = Notes()
    out = await collect(translate_stream(chunks_of(raw), Wire.OPENAI, Wire.ANTHROPIC, notes))
    names, acc = anthropic_events(out)
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert acc.finished and acc.error is None
    assert acc.content() == [
        {"type": "thinking", "thinking": "let me see", "signature": ""},
        {"type": "text", "text": "Reading both."},
        {"type": "tool_use", "id": "call_a", "name": "Read", "input": {"p": "/a"}},
        {"type": "tool_use", "id": "call_b", "name": "Read", "input": {"p": "/b"}}]
    assert acc.stop_reason == "tool_use"
    assert acc.usage["input_tokens"] == 30 and acc.usage["cache_read_input_tokens"] == 20
    assert acc.output_tokens == 8
    assert notes.items == []
    # Blocks never interleave: each starts after the previous one stopped.
    starts = [n for n in names if n in ("content_block_start", "content_block_stop")]
    assert starts == ["content_block_start", "content_block_stop"] * 4


@pytest.mark.parametrize(("finish", "stop"), [("stop", "end_turn"), ("length", "max_tokens"),
                                              ("content_filter", "refusal")])
async def test_openai_finish_reasons(finish, stop):
    raw = oai_frames([{"content": "x"}], finish, None)
    out = await collect(translate_stream(chunks_of(raw), Wire.OPENAI, Wire.ANTHROPIC, Notes()))
    _, acc = anthropic_events(out)
    assert acc.stop_reason == stop and acc.finished


async def test_openai_finish_without_done_still_finishes():
    raw = oai_frames([{"content": "x"}], "stop", USAGE, done=False)
    out = await collect(translate_stream(chunks_of(raw), Wire.OPENAI, Wire.ANTHROPIC, Notes()))
    _, acc = anthropic_events(out)
    assert acc.finished and acc.stop_reason == "end_turn"


async def test_openai_cut_stream_has_no_message_stop():
    raw = oai_frames([{"content": "par"}], None, None, done=False)
    out = await collect(translate_stream(chunks_of(raw), Wire.OPENAI, Wire.ANTHROPIC, Notes()))
    names, acc = anthropic_events(out)
    assert not acc.finished and "message_delta" not in names


async def test_openai_error_chunk_becomes_error_event():
    raw = oai_frames([{"content": "par"}], None, None, done=False) + (
        b'data: {"error":{"message":"overloaded","type":"rate_limit_error","code":null}}\n\n')
    out = await collect(translate_stream(chunks_of(raw), Wire.OPENAI, Wire.ANTHROPIC, Notes()))
    names, acc = anthropic_events(out)
    assert names[-1] == "error" and not acc.finished
    assert acc.error == {"type": "rate_limit_error", "message": "overloaded"}


def anth_stream(blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]], stop: str | None,
                error: dict[str, Any] | None = None) -> bytes:
    out = encode_sse("message_start", {"type": "message_start", "message": {
        "id": "msg_7", "type": "message", "role": "assistant", "model": "claude",
        "content": [], "stop_reason": None, "usage": {"input_tokens": 10, "output_tokens": 1,
                                                      "cache_read_input_tokens": 90}}})
    out += encode_sse("ping", {"type": "ping"})
    for i, (start, deltas) in enumerate(blocks):
        out += encode_sse("content_block_start", {"type": "content_block_start", "index": i,
                                                  "content_block": start})
        for d in deltas:
            out += encode_sse("content_block_delta", {"type": "content_block_delta",
                                                      "index": i, "delta": d})
        out += encode_sse("content_block_stop", {"type": "content_block_stop", "index": i})
    if error:
        return out + encode_sse("error", {"type": "error", "error": error})
    if stop:
        out += encode_sse("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 12}})
        out += encode_sse("message_stop", {"type": "message_stop"})
    return out


def openai_payloads(raw: bytes) -> tuple[list[str], ChatAccumulator]:
    acc = ChatAccumulator()
    datas = [e.data for e in SSEParser().feed(raw)]
    for data in datas:
        acc.add(data)
    return datas, acc


async def test_anthropic_thinking_text_tools_to_openai():
    raw = anth_stream([
        ({"type": "thinking", "thinking": "", "signature": ""},
         [{"type": "thinking_delta", "thinking": "hm"},
          {"type": "signature_delta", "signature": "sig"}]),
        ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "ok "},
                                        {"type": "text_delta", "text": "go"}]),
        ({"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}},
         [{"type": "input_json_delta", "partial_json": "{\"p\""},
          {"type": "input_json_delta", "partial_json": ":\"/a\"}"}]),
        ({"type": "tool_use", "id": "toolu_2", "name": "Grep", "input": {}},
         [{"type": "input_json_delta", "partial_json": "{}"}]),
    ], "tool_use")
    notes = Notes()
    out = await collect(translate_stream(chunks_of(raw), Wire.ANTHROPIC, Wire.OPENAI,
                                         notes, include_usage=True))
    datas, acc = openai_payloads(out)
    assert datas[-1] == "[DONE]" and acc.done and acc.error is None
    assert acc.text == "ok go" and acc.finish_reason == "tool_calls"
    assert acc.content()[1:] == [
        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"p": "/a"}},
        {"type": "tool_use", "id": "toolu_2", "name": "Grep", "input": {}}]
    assert [c["index"] for c in json.loads(datas[-5])["choices"][0]["delta"]["tool_calls"]] == [1]
    assert acc.usage["prompt_tokens"] == 100 and acc.usage["completion_tokens"] == 12
    assert acc.usage["prompt_tokens_details"] == {"cached_tokens": 90}
    reasoning = "".join(json.loads(d)["choices"][0]["delta"].get("reasoning_content", "")
                        for d in datas[:-2] if json.loads(d)["choices"])
    assert reasoning == "hm"
    assert json.loads(datas[0])["id"] == "chatcmpl-msg_7"
    assert notes.items == ["thinking signature dropped (OpenAI has no field for it)"]


async def test_anthropic_stream_without_include_usage_has_no_usage_chunk():
    raw = anth_stream([({"type": "text", "text": ""}, [{"type": "text_delta", "text": "x"}])],
                      "end_turn")
    out = await collect(translate_stream(chunks_of(raw), Wire.ANTHROPIC, Wire.OPENAI, Notes(),
                                                   include_usage=False))
    datas, acc = openai_payloads(out)
    assert acc.usage == {} and acc.finish_reason == "stop" and datas[-1] == "[DONE]"


async def test_anthropic_error_event_becomes_error_chunk_without_done():
    raw = anth_stream([({"type": "text", "text": ""}, [{"type": "text_delta", "text": "x"}])],
                      None, error={"type": "overloaded_error", "message": "busy"})
    out = await collect(translate_stream(chunks_of(raw), Wire.ANTHROPIC, Wire.OPENAI, Notes(),
                                         include_usage=True))
    datas, acc = openai_payloads(out)
    assert "[DONE]" not in datas and not acc.done
    assert acc.error == {"message": "busy", "type": "service_unavailable", "param": None,
                         "code": None}


async def test_anthropic_cut_stream_has_no_finish_and_no_done():
    raw = anth_stream([({"type": "text", "text": ""}, [{"type": "text_delta", "text": "x"}])],
                      None)
    out = await collect(translate_stream(chunks_of(raw), Wire.ANTHROPIC, Wire.OPENAI, Notes(),
                                         include_usage=True))
    _datas, acc = openai_payloads(out)
    assert not acc.done and acc.finish_reason is None


@pytest.mark.parametrize("wire", list(Wire))
def test_the_same_protocol_both_ways_is_the_stream_itself(wire):
    """No parsing, no copy: the pass-through relay's chunks are handed back as they are."""
    chunks = chunks_of(b"data: {}\n\n")
    assert translate_stream(chunks, wire, wire, Notes()) is chunks


PAIRS = [(s, t) for s in Wire for t in Wire if s != t]


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s}-{t}" for s, t in PAIRS])
async def test_every_pair_goes_through_the_codec_registry(source, target):
    """A text and a tool call written by the source's stream codec arrive, through the target's
    wire, as the same neutral events (read back with the target's own stream decoder)."""
    from fusion_tui.protocols import neutral as n
    from fusion_tui.protocols.translation import CODECS

    events: list[n.StreamEvent] = [
        n.StreamStart("id1", "m"), n.PartStart(0, n.Text("")), n.PartDelta(0, "text", "hel"),
        n.PartDelta(0, "text", "lo"), n.PartStop(0), n.PartStart(1, n.ToolCall("call_1", "Read")),
        n.PartDelta(1, "arguments", '{"p":'), n.PartDelta(1, "arguments", '"/a"}'),
        n.PartStop(1), n.StreamStop("tool_calls", n.Usage(input_tokens=3, output_tokens=4))]
    encoder = CODECS[source].stream_encoder(Notes(), "m", True)
    raw = b"".join(encoder.encode(e) for e in events)
    out = await collect(translate_stream(chunks_of(raw), source, target, Notes(), model="m",
                                         include_usage=True))
    decoder = CODECS[target].stream_decoder(Notes())
    got = [e for ev in SSEParser().feed(out) for e in decoder.feed(ev)] + decoder.end()
    text = "".join(e.value for e in got if isinstance(e, n.PartDelta) and e.kind == "text")
    args = "".join(e.value for e in got if isinstance(e, n.PartDelta) and e.kind == "arguments")
    calls = [e.part for e in got if isinstance(e, n.PartStart) and isinstance(e.part, n.ToolCall)]
    stop = got[-1]
    assert text == "hello" and json.loads(args) == {"p": "/a"}
    assert [(c.id, c.name) for c in calls] == [("call_1", "Read")]
    assert isinstance(stop, n.StreamStop) and stop.stop == "tool_calls"
    assert (stop.usage.input_tokens, stop.usage.output_tokens) == (3, 4)
