"""The conversation as advisors and the judge see it: tools described as text, never callable.

Tool calls and results become plain text blocks, `role: "system"` messages become user notes,
and consecutive messages of one role are merged, so any Messages API accepts the result.
"""

from __future__ import annotations

from typing import Any

import orjson

from fusion_tui.protocols.anthropic import text_of

TOOL_RESULT_CHARS = 4000
TOOL_SCHEMA_CHARS = 600


def _block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return str(block)
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        args = orjson.dumps(block.get("input", {})).decode()
        return f"[called tool {block.get('name')} with {args}]"
    if kind == "tool_result":
        body = text_of(block.get("content", ""))
        if len(body) > TOOL_RESULT_CHARS:
            body = body[:TOOL_RESULT_CHARS] + f"... [{len(body) - TOOL_RESULT_CHARS} chars cut]"
        flag = " (error)" if block.get("is_error") else ""
        return f"[tool result{flag}]\n{body}"
    if kind in ("thinking", "redacted_thinking"):
        return ""
    if kind in ("image", "document"):
        return f"[{kind} attached]"
    return f"[{kind} block]"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(t for t in (_block_text(b) for b in content) if t)
    return ""


def describe_tools(tools: list[Any]) -> str:
    """The tools as a text list (name, description's first line, input schema, bounded)."""
    lines = []
    for tool in tools:
        if not isinstance(tool, dict) or not tool.get("name"):
            continue
        description = str(tool.get("description", "")).strip().splitlines()
        schema = orjson.dumps(tool.get("input_schema", {})).decode()
        if len(schema) > TOOL_SCHEMA_CHARS:
            schema = schema[:TOOL_SCHEMA_CHARS] + "..."
        first = description[0] if description else ""
        lines.append(f"- {tool['name']}: {first}\n  input schema: {schema}")
    return "\n".join(lines)


def system_text(body: dict[str, Any]) -> str:
    """The request's top-level system prompt as plain text."""
    system = body.get("system")
    return system if isinstance(system, str) else text_of(system or [])


def advisor_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation with every block turned to text and roles alternating."""
    merged: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        text = _content_text(message.get("content"))
        if role == "system":
            role, text = "user", f"<system-note>\n{text}\n</system-note>" if text else ""
        if role not in ("user", "assistant") or not text.strip():
            continue
        if merged and merged[-1]["role"] == role:
            merged[-1]["content"] += "\n\n" + text
        else:
            merged.append({"role": role, "content": text})
    if merged and merged[0]["role"] != "user":
        merged.insert(0, {"role": "user", "content": "(conversation continues)"})
    return merged


def recent_context(body: dict[str, Any], max_chars: int = 6000) -> str:
    """The tail of the conversation as one text, for the judge (newest kept, bounded)."""
    parts: list[str] = []
    used = 0
    for message in reversed(advisor_messages(body)):
        piece = f"{message['role'].upper()}:\n{message['content']}"
        if used + len(piece) > max_chars:
            parts.append(piece[-(max_chars - used):] if used < max_chars else "")
            break
        parts.append(piece)
        used += len(piece)
    return "\n\n".join(p for p in reversed(parts) if p)
