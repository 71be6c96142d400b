"""Complete responses and error bodies translated in both directions, table-driven."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fusion_tui.protocols.errors import error_bytes
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.translation import translate
from fusion_tui.protocols.wire import Wire


def oai_completion(message: dict[str, Any], finish: str, usage: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt",
            "choices": [{"index": 0, "message": {"role": "assistant", **message},
                         "finish_reason": finish}],
            "usage": usage or {"prompt_tokens": 100, "completion_tokens": 20,
                               "prompt_tokens_details": {"cached_tokens": 60}}}


O2A_CASES = [
    ("text", {"content": "hi"}, "stop",
     [{"type": "text", "text": "hi"}], "end_turn"),
    ("length", {"content": "cut"}, "length", [{"type": "text", "text": "cut"}], "max_tokens"),
    ("parallel tool calls", {"content": None, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "A", "arguments": "{\"x\":1}"}},
        {"id": "call_b", "type": "function", "function": {"name": "B", "arguments": ""}}]},
     "tool_calls",
     [{"type": "tool_use", "id": "call_a", "name": "A", "input": {"x": 1}},
      {"type": "tool_use", "id": "call_b", "name": "B", "input": {}}], "tool_use"),
    ("tool calls with finish stop (some compatible servers)", {"tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "A", "arguments": "{}"}}]}, "stop",
     [{"type": "tool_use", "id": "c", "name": "A", "input": {}}], "tool_use"),
    ("reasoning becomes thinking", {"content": "ok", "reasoning_content": "why"}, "stop",
     [{"type": "thinking", "thinking": "why", "signature": ""},
      {"type": "text", "text": "ok"}], "end_turn"),
    ("refusal", {"content": None, "refusal": "no"}, "content_filter",
     [{"type": "text", "text": "no"}], "refusal"),
]


@pytest.mark.parametrize(("case", "message", "finish", "content", "stop"), O2A_CASES,
                         ids=[c[0] for c in O2A_CASES])
def test_openai_to_anthropic_response(case, message, finish, content, stop):
    got = translate(oai_completion(message, finish), Wire.OPENAI, Wire.ANTHROPIC,
                    Notes(), kind="response")
    assert got["type"] == "message" and got["role"] == "assistant"
    assert got["id"] == "msg_chatcmpl-1" and got["model"] == "gpt"
    assert got["content"] == content
    assert got["stop_reason"] == stop
    assert got["usage"] == {"input_tokens": 40, "output_tokens": 20,
                            "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0}


def anth_message(content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 30,
                      "cache_creation_input_tokens": 2}}


A2O_CASES = [
    ("text", [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "end_turn",
     {"content": "ab"}, "stop", []),
    ("stop sequence", [{"type": "text", "text": "a"}], "stop_sequence", {"content": "a"},
     "stop", []),
    ("max tokens", [{"type": "text", "text": "a"}], "max_tokens", {"content": "a"}, "length", []),
    ("tool use", [{"type": "text", "text": "reading"},
                  {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"p": "/a"}}],
     "tool_use", {"content": "reading", "tool_calls": [
         {"id": "toolu_1", "type": "function",
          "function": {"name": "Read", "arguments": '{"p":"/a"}'}}]}, "tool_calls", []),
    ("thinking to reasoning_content; signature and redacted noted",
     [{"type": "thinking", "thinking": "why", "signature": "sig"},
      {"type": "redacted_thinking", "data": "x"}, {"type": "text", "text": "ok"}],
     "end_turn", {"content": "ok", "reasoning_content": "why"}, "stop",
     ["thinking signature dropped (OpenAI has no field for it)",
      "redacted thinking dropped (OpenAI has no field for it)"]),
    ("refusal", [], "refusal", {"content": None}, "content_filter", []),
]


@pytest.mark.parametrize(("case", "content", "stop", "message", "finish", "notes"), A2O_CASES,
                         ids=[c[0] for c in A2O_CASES])
def test_anthropic_to_openai_response(case, content, stop, message, finish, notes):
    got_notes = Notes()
    got = translate(anth_message(content, stop), Wire.ANTHROPIC, Wire.OPENAI,
                    got_notes, kind="response")
    assert got["object"] == "chat.completion" and got["id"] == "chatcmpl-msg_1"
    choice = got["choices"][0]
    assert choice["message"] == {"role": "assistant", "refusal": None, **message}
    assert choice["finish_reason"] == finish
    assert got["usage"] == {"prompt_tokens": 42, "completion_tokens": 5, "total_tokens": 47,
                            "prompt_tokens_details": {"cached_tokens": 30},
                            "completion_tokens_details": {"reasoning_tokens": 0}}
    assert got_notes.items == notes


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"error":{"message":"bad key","type":"invalid_request_error"}}', "bad key"),
    (b'{"type":"error","error":{"type":"overloaded_error","message":"busy"}}', "busy"),
    (b'{"error":"plain string"}', "plain string"),
    (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
    (b"", "HTTP 503"),
])
def test_error_bodies_keep_the_message(raw, message):
    anth = orjson.loads(error_bytes(Wire.ANTHROPIC, 503, raw))
    assert anth == {"type": "error", "error": {"type": "overloaded_error", "message": message}}
    oai = orjson.loads(error_bytes(Wire.OPENAI, 503, raw))
    assert oai == {"error": {"message": message, "type": "service_unavailable", "param": None,
                             "code": None}}
