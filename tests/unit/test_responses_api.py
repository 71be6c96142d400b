"""The Responses codec and streams, sans-IO: requests both ways, answers, stream round trips,
a cut stream, the Codex backend's empty final output, and the simulated model's shell tool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from fusion_tui.protocols import neutral as n
from fusion_tui.protocols import responses_codec as rc
from fusion_tui.protocols.responses import ResponsesAccumulator
from fusion_tui.protocols.responses_stream import collect_stream
from fusion_tui.protocols.sse import SSEParser
from fusion_tui.protocols.translation import translate, translate_stream
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.simulated_brain import decide

BODY: dict[str, Any] = {
    "model": "m", "instructions": "Be brief.", "max_output_tokens": 300,
    "tools": [{"type": "function", "name": "read", "parameters": {"type": "object"}},
              {"type": "web_search"}],
    "tool_choice": {"type": "function", "name": "read"},
    "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text",
                                                               "text": "rules"}]},
        {"role": "user", "content": "read a.txt"},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text",
                                                         "text": "think"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text",
                                                              "text": "ok"}]},
        {"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{\"p\":1}"},
        {"type": "function_call", "call_id": "c2", "name": "read", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {"type": "function_call_output", "call_id": "c2", "output": "two"},
    ]}


def test_request_to_anthropic_groups_items_into_turns():
    notes = n.Notes()
    out = translate(BODY, Wire.RESPONSES, Wire.ANTHROPIC,
                    notes, model="claude", default_max_tokens=9)
    assert out["system"] == "Be brief.\n\nrules" or out["system"][0]["text"].startswith("Be")
    roles = [m["role"] for m in out["messages"]]
    assert roles == ["user", "assistant", "user"]
    assistant = out["messages"][1]["content"]
    assert [b["type"] for b in assistant][-3:] == ["text", "tool_use", "tool_use"]
    results = out["messages"][2]["content"]
    assert [(b["tool_use_id"], b["type"]) for b in results] == [("c1", "tool_result"),
                                                                ("c2", "tool_result")]
    assert out["max_tokens"] == 300 and out["tool_choice"] == {"type": "tool", "name": "read"}
    assert [t["name"] for t in out["tools"]] == ["read"]
    assert any("web_search" in note for note in notes.items)


def test_anthropic_request_to_responses_keeps_calls_and_results_in_order():
    notes = n.Notes()
    body = {"model": "x", "max_tokens": 50, "system": "sys", "stop_sequences": ["END"],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "let me"},
                    {"type": "tool_use", "id": "t1", "name": "Read", "input": {"a": 1}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "data",
                     "is_error": True}, {"type": "text", "text": "and?"}]}]}
    out = translate(body, Wire.ANTHROPIC, Wire.RESPONSES, notes, model="gpt")
    assert out["instructions"] == "sys" and out["store"] is False
    assert out["max_output_tokens"] == 50
    assert [i.get("type") for i in out["input"]] == [
        "message", "message", "function_call", "function_call_output", "message"]
    assert out["input"][3] == {"type": "function_call_output", "call_id": "t1",
                               "output": "[tool error] data"}
    assert any("stop sequences" in note for note in notes.items)


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in stream])


def _events(raw: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(e.data) for e in SSEParser().feed(raw)]


async def test_anthropic_stream_to_responses_and_back():
    resp = n.Response(id="msg_1", model="claude", parts=[
        n.Thinking("hmm", "sig"), n.Text("hello "), n.ToolCall("t1", "Read", '{"a":1}')],
        stop="tool_calls", usage=n.Usage(input_tokens=5, output_tokens=3, cache_read_tokens=2))
    from fusion_tui.protocols import anthropic_codec as ac

    notes = n.Notes()
    encoder = ac.StreamEncoder(notes)
    events: list[n.StreamEvent] = [n.StreamStart("msg_1", "claude", resp.usage)]
    for i, part in enumerate(resp.parts):
        start = (n.ToolCall(part.id, part.name) if isinstance(part, n.ToolCall) else
                 type(part)(""))  # type: ignore[call-arg]
        events.append(n.PartStart(i, start))
        kind = {"Thinking": "thinking", "Text": "text", "ToolCall": "arguments"}[
            type(part).__name__]
        value = part.arguments if isinstance(part, n.ToolCall) else part.text  # type: ignore[union-attr]
        events += [n.PartDelta(i, kind, value), n.PartStop(i)]  # type: ignore[arg-type]
    events.append(n.StreamStop("tool_calls", resp.usage))
    anthropic_sse = b"".join(encoder.encode(e) for e in events)
    chunks = _chunks(anthropic_sse[:50], anthropic_sse[50:])
    responses_sse = await _collect(translate_stream(chunks, Wire.ANTHROPIC, Wire.RESPONSES, notes,
                                                    model="claude"))
    payloads = _events(responses_sse)
    assert payloads[0]["type"] == "response.created"
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    done = payloads[-1]
    assert done["type"] == "response.completed"
    assert [i["type"] for i in done["response"]["output"]] == ["reasoning", "message",
                                                              "function_call"]
    assert done["response"]["usage"]["input_tokens"] == 7
    acc = ResponsesAccumulator()
    for p in payloads:
        acc.add(p)
    assert acc.stop_reason() == "tool_use" and acc.content()[-1]["input"] == {"a": 1}
    back = await _collect(translate_stream(_chunks(responses_sse), Wire.RESPONSES, Wire.ANTHROPIC,
                                           notes))
    names = [e.event for e in SSEParser().feed(back)]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert names.count("content_block_start") == 3


async def test_cut_stream_stays_unfinished_and_codex_final_output_is_rebuilt():
    created = (b'event: response.created\ndata: {"type":"response.created","response":'
               b'{"id":"resp_1","model":"m"}}\n\n')
    cut = await _collect(translate_stream(_chunks(created), Wire.RESPONSES, Wire.OPENAI, n.Notes(),
                                                       include_usage=True))
    assert b"[DONE]" not in cut
    item = {"type": "message", "content": [{"type": "output_text", "text": "hi"}]}
    done = orjson.dumps({"type": "response.output_item.done", "output_index": 0,
                         "item": item})
    final = orjson.dumps({"type": "response.completed", "response": {
        "id": "resp_1", "status": "completed", "output": []}})
    stream = _chunks(created, b"data: " + done + b"\n\n", b"data: " + final + b"\n\n")
    answer, error = await collect_stream(stream, n.Notes())
    assert error is None and answer is not None and answer["output"] == [item]
    assert rc.decode_response(answer, n.Notes()).parts == [n.Text("hi")]


def test_simulated_model_uses_a_shell_tool_when_no_read_tool_exists():
    shell = {"name": "exec_command", "input_schema": {"type": "object", "properties": {
        "cmd": {"type": "string"}, "workdir": {"type": "string"}}}}
    view = {"name": "view_image", "input_schema": {"type": "object", "properties": {
        "path": {"type": "string"}}}}
    body = {"messages": [{"role": "user", "content": "read hello.txt"}],
            "tools": [shell, view]}
    answer = decide(body, "m")
    assert answer.content[-1]["name"] == "exec_command"
    assert answer.content[-1]["input"] == {"cmd": "cat hello.txt"}
    argv = {"name": "shell", "input_schema": {"type": "object", "properties": {
        "command": {"type": "array", "items": {"type": "string"}}}}}
    assert decide({**body, "tools": [argv]}, "m").content[-1]["input"] == {
        "command": ["bash", "-lc", "cat hello.txt"]}
    read = {"name": "read", "input_schema": {"type": "object", "properties": {
        "filePath": {"type": "string"}}}}
    chosen = decide({**body, "tools": [shell, read]}, "m").content[-1]
    assert chosen["name"] == "read" and chosen["input"]["filePath"] == "hello.txt"
