"""The simulated model's decisions and the schema filler."""

from __future__ import annotations

from typing import Any

from fusion_tui.upstreams.schema_fill import fill
from fusion_tui.upstreams.simulated_brain import decide

READ = {"name": "Read", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"},
                                     "limit": {"type": "integer"}},
    "required": ["file_path"]}}


def test_reads_a_named_file_in_the_working_directory() -> None:
    body = {"messages": [{"role": "user", "content": "read hello.txt and tell me"},
                         {"role": "system", "content": " - Primary working directory: /tmp/w\n"}],
            "tools": [{"name": "Bash", "input_schema": {"type": "object", "properties": {
                "command": {"type": "string"}}}}, READ]}
    answer = decide(body, "m")
    assert answer.stop_reason == "tool_use"
    assert answer.content[-1]["name"] == "Read"
    assert answer.content[-1]["input"] == {"file_path": "/tmp/w/hello.txt"}
    assert decide(body, "m") == answer  # deterministic


def test_no_tool_call_without_a_named_file_or_a_read_tool() -> None:
    assert decide({"messages": [{"role": "user", "content": "what is a monad"}],
                   "tools": [READ]}, "m").stop_reason == "end_turn"
    assert decide({"messages": [{"role": "user", "content": "read a.py"}]},
                  "m").stop_reason == "end_turn"


def test_tool_result_turn_quotes_the_result() -> None:
    body = {"tools": [READ], "messages": [
        {"role": "user", "content": "read a.py"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Read",
                                           "input": {"file_path": "a.py"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                      "content": [{"type": "text", "text": "print(42)"}]}]}]}
    answer = decide(body, "m")
    assert answer.stop_reason == "end_turn" and "print(42)" in answer.content[0]["text"]


def _valid(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "object":
        return isinstance(value, dict) and all(
            k in value and _valid(value[k], schema["properties"][k])
            for k in schema.get("required", []))
    if kind == "array":
        return isinstance(value, list) and len(value) >= schema.get("minItems", 0) and all(
            _valid(v, schema["items"]) for v in value)
    if "enum" in schema:
        return value in schema["enum"]
    if kind == "integer":
        return isinstance(value, int) and value >= schema.get("minimum", value)
    if kind == "string":
        return isinstance(value, str) and len(value) >= schema.get("minLength", 0)
    return True


def test_schema_fill_produces_valid_values() -> None:
    schema = {"type": "object", "required": ["title", "tags", "level", "n"], "properties": {
        "title": {"type": "string", "minLength": 30},
        "tags": {"type": "array", "minItems": 2, "items": {"type": "string"}},
        "level": {"enum": ["low", "high"]},
        "n": {"type": "integer", "minimum": 5},
        "optional": {"type": "string"}}}
    value = fill(schema)
    assert _valid(value, schema)
    assert "optional" not in value
    ref = {"$defs": {"item": {"type": "object", "required": ["id"],
                              "properties": {"id": {"type": "integer"}}}},
           "type": "array", "items": {"$ref": "#/$defs/item"}}
    assert fill(ref) == [{"id": 1}]
