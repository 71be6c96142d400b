"""Request translation in both directions, table-driven over real-shaped payloads."""

from __future__ import annotations

from typing import Any

import pytest

from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.translation import anthropic_view, translate
from fusion_tui.protocols.wire import Wire

PNG = "iVBORw0KGgo="
PDF = "JVBERi0xLjQ="
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}},
          "required": ["title"], "additionalProperties": False}

# (case, Anthropic body (model/max_tokens added), expected OpenAI body minus model, notes)
A2O: list[tuple[str, dict[str, Any], dict[str, Any], list[str]]] = [
    ("string system and text",
     {"system": "sys", "messages": [{"role": "user", "content": "hi"}]},
     {"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]},
     []),
    ("block system with cache_control, system message last",
     {"system": [{"type": "text", "text": "a"},
                 {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}],
      "messages": [{"role": "user", "content": "hi"},
                   {"role": "system", "content": [{"type": "text", "text": "env"}]},
                   {"role": "system", "content": ""}]},
     {"messages": [{"role": "system", "content": "a\n\nb"}, {"role": "user", "content": "hi"},
                   {"role": "system", "content": "env"}]},
     []),
    ("images base64 and url, pdf and text documents",
     {"messages": [{"role": "user", "content": [
         {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                      "data": PNG}},
         {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
         {"type": "document", "title": "spec.pdf",
          "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}},
         {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                         "data": "notes"}}]}]},
     {"messages": [{"role": "user", "content": [
         {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
         {"type": "image_url", "image_url": {"url": "https://x.test/a.jpg"}},
         {"type": "file", "file": {"filename": "spec.pdf",
                                   "file_data": f"data:application/pdf;base64,{PDF}"}},
         {"type": "text", "text": "notes"}]}]},
     []),
    ("tool use and results (string, blocks, error, image), thinking dropped",
     {"messages": [
         {"role": "user", "content": "go"},
         {"role": "assistant", "content": [
             {"type": "thinking", "thinking": "t", "signature": "s"},
             {"type": "redacted_thinking", "data": "r"},
             {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"p": 1}},
             {"type": "tool_use", "id": "toolu_2", "name": "Shot", "input": {}}]},
         {"role": "user", "content": [
             {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
              "content": [{"type": "text", "text": "boom"}], "cache_control": {"type": "x"}},
             {"type": "tool_result", "tool_use_id": "toolu_2", "content": [
                 {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                              "data": PNG}}]}]}]},
     {"messages": [
         {"role": "user", "content": "go"},
         {"role": "assistant", "content": None, "tool_calls": [
             {"id": "toolu_1", "type": "function",
              "function": {"name": "Read", "arguments": '{"p":1}'}},
             {"id": "toolu_2", "type": "function", "function": {"name": "Shot",
                                                                "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "toolu_1", "content": "[tool error] boom"},
         {"role": "tool", "tool_call_id": "toolu_2",
          "content": "(image attached in the next user message)"},
         {"role": "user", "content": [
             {"type": "text", "text": "Images returned by the tool calls above:"},
             {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]}]},
     ["thinking blocks in the history cannot be sent to OpenAI; dropped"]),
    ("tools, tool_choice, parallel off, stop, sampling, structured output, stream",
     {"messages": [{"role": "user", "content": "x"}], "stream": True, "temperature": 0.5,
      "top_p": 0.9, "top_k": 5, "stop_sequences": ["a", "b", "c", "d", "e"],
      "tools": [{"name": "Read", "description": "r", "input_schema": SCHEMA,
                 "defer_loading": True},
                {"type": "web_search_20250305", "name": "web_search"}],
      "tool_choice": {"type": "tool", "name": "Read", "disable_parallel_tool_use": True},
      "thinking": {"type": "adaptive"},
      "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": SCHEMA}},
      "metadata": {"user_id": "{\"device\":\"d\"}"}},
     {"messages": [{"role": "user", "content": "x"}], "stream": True,
      "stream_options": {"include_usage": True}, "temperature": 0.5, "top_p": 0.9,
      "stop": ["a", "b", "c", "d"],
      "tools": [{"type": "function", "function": {"name": "Read", "description": "r",
                                                  "parameters": SCHEMA}}],
      "parallel_tool_calls": False,
      "tool_choice": {"type": "function", "function": {"name": "Read"}},
      "response_format": {"type": "json_schema", "json_schema": {"name": "output",
                                                                 "schema": SCHEMA}},
      "reasoning_effort": "high"},
     ["tool web_search (web_search_20250305) is an Anthropic server tool; dropped",
      "top_k has no OpenAI equivalent; dropped",
      "OpenAI takes at most 4 stop sequences; the rest dropped"]),
    ("server tool blocks in history are dropped with a note",
     {"messages": [{"role": "assistant", "content": [
         {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
          "input": {"query": "q"}},
         {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
         {"type": "text", "text": "found"}]}]},
     {"messages": [{"role": "assistant", "content": "found"}]},
     ["anthropic block server_tool_use has no OpenAI equivalent; dropped",
      "anthropic block web_search_tool_result has no OpenAI equivalent; dropped"]),
]


@pytest.mark.parametrize(("case", "body", "expected", "notes"), A2O, ids=[c[0] for c in A2O])
def test_anthropic_to_openai(case, body, expected, notes):
    got_notes = Notes()
    got = translate({"model": "claude", "max_tokens": 100, **body}, Wire.ANTHROPIC, Wire.OPENAI,
                    got_notes,
                                      model="gpt-up", token_field="max_completion_tokens")
    assert got == {"model": "gpt-up", "max_completion_tokens": 100, **expected}
    assert got_notes.items == notes


# (case, OpenAI body (model added), expected Anthropic body minus model/max_tokens, notes)
O2A: list[tuple[str, dict[str, Any], dict[str, Any], list[str]]] = [
    ("leading system and developer become the system prompt; later ones user text",
     {"messages": [{"role": "system", "content": "a"},
                   {"role": "developer", "content": [{"type": "text", "text": "b"}]},
                   {"role": "user", "content": "hi"},
                   {"role": "assistant", "content": "hello"},
                   {"role": "system", "content": "mid"}]},
     {"system": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
      "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
                   {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
                   {"role": "user", "content": [{"type": "text", "text":
                       "<system-reminder>\nmid\n</system-reminder>"}]}]},
     []),
    ("images by data url and url, pdf file, audio dropped",
     {"messages": [{"role": "user", "content": [
         {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG}",
                                             "detail": "low"}},
         {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
         {"type": "file", "file": {"filename": "a.pdf",
                                   "file_data": f"data:application/pdf;base64,{PDF}"}},
         {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]},
     {"messages": [{"role": "user", "content": [
         {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                      "data": PNG}},
         {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
         {"type": "document", "title": "a.pdf",
          "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}}]}]},
     ["content part input_audio has no Anthropic equivalent; dropped"]),
    ("tool calls, tool messages merged with the next user text, results first",
     {"messages": [
         {"role": "user", "content": "go"},
         {"role": "assistant", "content": "ok", "reasoning_content": "hmm", "tool_calls": [
             {"id": "call_1", "type": "function",
              "function": {"name": "Read", "arguments": "{\"p\": 1}"}},
             {"id": "call_2", "type": "function",
              "function": {"name": "Read", "arguments": "not json"}}]},
         {"role": "tool", "tool_call_id": "call_1", "content": "one"},
         {"role": "tool", "tool_call_id": "call_2",
          "content": [{"type": "text", "text": "two"}]},
         {"role": "user", "content": "thanks"}]},
     {"messages": [
         {"role": "user", "content": [{"type": "text", "text": "go"}]},
         {"role": "assistant", "content": [
             {"type": "text", "text": "ok"},
             {"type": "tool_use", "id": "call_1", "name": "Read", "input": {"p": 1}},
             {"type": "tool_use", "id": "call_2", "name": "Read",
              "input": {"_unparsed": "not json"}}]},
         {"role": "user", "content": [
             {"type": "tool_result", "tool_use_id": "call_1",
              "content": [{"type": "text", "text": "one"}]},
             {"type": "tool_result", "tool_use_id": "call_2",
              "content": [{"type": "text", "text": "two"}]},
             {"type": "text", "text": "thanks"}]}]},
     ["reasoning without an Anthropic signature cannot be sent back; dropped"]),
    ("tools, required choice, no parallel, json_schema, stop string, knobs dropped",
     {"messages": [{"role": "user", "content": "x"}], "stream": True,
      "stream_options": {"include_usage": True}, "max_tokens": 50, "temperature": 1.5,
      "stop": "END", "seed": 3, "reasoning_effort": "high", "parallel_tool_calls": False,
      "tools": [{"type": "function", "function": {"name": "f", "parameters": SCHEMA,
                                                  "strict": True}}],
      "tool_choice": "required",
      "response_format": {"type": "json_schema", "json_schema": {
          "name": "t", "schema": SCHEMA, "strict": True}}},
     {"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
      "stream": True, "temperature": 1.0, "stop_sequences": ["END"],
      "tools": [{"name": "f", "input_schema": SCHEMA}],
      "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
      "output_config": {"format": {"type": "json_schema", "schema": SCHEMA},
                        "effort": "high"}},
     ["seed has no Anthropic equivalent; dropped",
      "temperature 1.5 clamped to Anthropic's maximum 1"]),
]


@pytest.mark.parametrize(("case", "body", "expected", "notes"), O2A, ids=[c[0] for c in O2A])
def test_openai_to_anthropic(case, body, expected, notes):
    got_notes = Notes()
    got = translate({"model": "gpt", **body}, Wire.OPENAI, Wire.ANTHROPIC,
                    got_notes, model="claude-up",
                                      default_max_tokens=1234)
    max_tokens = body.get("max_tokens", 1234)
    assert got == {"model": "claude-up", "max_tokens": max_tokens, **expected}
    assert got_notes.items == notes


def test_json_object_is_asked_for_in_the_system_prompt():
    notes = Notes()
    got = translate({"model": "g", "messages": [
        {"role": "user", "content": "x"}], "response_format": {"type": "json_object"}},
        Wire.OPENAI, Wire.ANTHROPIC, notes, model="c", default_max_tokens=10)
    assert "JSON object" in got["system"][0]["text"]
    assert notes.items and "json_object" in notes.items[0]


def test_gate_view_keeps_the_model():
    got = anthropic_view({"model": "gpt", "messages": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}, Wire.OPENAI)
    assert got["model"] == "gpt" and got["system"] == [{"type": "text", "text": "s"}]
