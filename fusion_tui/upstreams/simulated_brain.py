"""What the simulated model says: a pure function of the request, deterministic.

- structured output requested -> JSON valid for the schema;
- tools offered and the user named a file, with a Read-like tool -> a tool_use reading it;
  with no tool named like read but a shell-like one (Codex's exec_command/shell) -> a
  tool_use running `cat <file>` (before any other tool that merely has a path property);
- the last turn carries tool results -> a short text that quotes them;
- otherwise -> plausible coding-assistant prose, sized by max_tokens.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from fusion_tui.protocols.anthropic import text_of
from fusion_tui.upstreams.schema_fill import fill
from fusion_tui.upstreams.simulated_council import council_role_answer

_CWD = re.compile(r"(?:Primary working directory|Working directory|cwd)\s*:\s*(\S+)", re.I)
_FILE = re.compile(r"(?<![\w/])((?:~|\.{0,2}/)?[\w.\-/]*\w\.[A-Za-z0-9]{1,8})\b")
_PATH_KEYS = ("file_path", "filePath", "path", "filename", "file")
_SHELL_NAMES = ("exec_command", "shell", "shell_command", "bash", "local_shell")
_SHELL_KEYS = ("cmd", "command")

_SENTENCES = [
    "Let me look at how the pieces fit together before changing anything.",
    "The simplest change that keeps the behaviour is to extract the shared logic into one helper.",
    "I would add a test that fails on the current code first, then make it pass.",
    "The error comes from the value being read before it is initialised.",
    "Keep the public interface as it is and change only the internals.",
    "This touches two modules, so the tests for both should run after the change.",
    "A smaller function with one job would make this easier to read and to test.",
    "Check the edge cases: an empty input, a very large one, and a malformed one.",
]


@dataclass
class Answer:
    """The simulated answer: Anthropic content blocks and the stop reason."""

    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"


def _seed(body: dict[str, Any]) -> int:
    return int.from_bytes(hashlib.sha256(orjson.dumps(body.get("messages", []))).digest()[:4],
                          "big")


def _last_conversational(messages: list[Any]) -> dict[str, Any] | None:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") in ("user", "assistant"):
            return message
    return None


def _tool_results(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [text_of(b.get("content", "")) for b in content
            if isinstance(b, dict) and b.get("type") == "tool_result"]


def _latest_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                texts = [b.get("text", "") for b in content
                         if isinstance(b, dict) and b.get("type") == "text"
                         and not str(b.get("text", "")).lstrip().startswith("<system-reminder>")]
                text = "\n".join(texts).strip()
            else:
                text = str(content or "")
            if text:
                return text
    return ""


def _all_text(body: dict[str, Any]) -> str:
    parts = [text_of(body.get("system", ""))]
    parts += [text_of(m.get("content", "")) for m in body.get("messages", [])
              if isinstance(m, dict)]
    return "\n".join(parts)


def _shell_tool(tools: list[Any]) -> tuple[str, str, bool] | None:
    """(tool name, command property, whether it takes an argv list) of a shell tool."""
    for tool in tools:
        if not isinstance(tool, dict) or str(tool.get("name", "")).lower() not in _SHELL_NAMES:
            continue
        props = (tool.get("input_schema") or {}).get("properties") or {}
        for key in _SHELL_KEYS:
            if key in props:
                return tool["name"], key, (props[key] or {}).get("type") == "array"
    return None


def _path_tool(tools: list[Any], rank_limit: int = 1) -> tuple[str, str] | None:
    """The (tool name, path property) of the best file-reading tool offered (rank 0: named
    like read; rank 1: any tool with a path property)."""
    candidates: list[tuple[int, str, str]] = []
    for tool in tools:
        if not isinstance(tool, dict) or not tool.get("name"):
            continue
        props = (tool.get("input_schema") or {}).get("properties") or {}
        for key in _PATH_KEYS:
            if key in props:
                rank = 0 if tool["name"].lower() in ("read", "read_file", "view") else 1
                candidates.append((rank, tool["name"], key))
                break
    best = min(candidates) if candidates else None
    return best[1:] if best and best[0] <= rank_limit else None


def decide(body: dict[str, Any], model: str) -> Answer:
    """The simulated model's answer to a Messages request."""
    role_text = council_role_answer(body, model)
    if role_text is not None:
        return Answer([{"type": "text", "text": role_text}])
    messages = body.get("messages") or []
    tools = body.get("tools") or []
    fmt = (body.get("output_config") or {}).get("format") or {}
    if fmt.get("type") == "json_schema" and isinstance(fmt.get("schema"), dict):
        value = fill(fmt["schema"])
        return Answer([{"type": "text", "text": orjson.dumps(value).decode()}])

    last = _last_conversational(messages)
    results = _tool_results(last) if last and last.get("role") == "user" else []
    if results:
        excerpt = " ".join(results[0].split())[:400]
        text = (f"[simulated {model}] I ran the tool. It returned: {excerpt}\n\n"
                f"That is what the file says.")
        return Answer([{"type": "text", "text": text}])

    user_text = _latest_user_text(messages)
    named = _FILE.search(user_text)
    shell = _shell_tool(tools) if named and not _path_tool(tools, rank_limit=0) else None
    if shell and named:
        name, key, argv = shell
        command = f"cat {named.group(1)}"
        return Answer(
            [{"type": "text", "text": f"[simulated {model}] I'll read {named.group(1)}."},
             {"type": "tool_use", "id": f"toolu_sim{_seed(body):08x}", "name": name,
              "input": {key: ["bash", "-lc", command] if argv else command}}],
            stop_reason="tool_use")
    tool = _path_tool(tools)
    if tool and named:
        name, key = tool
        path = named.group(1)
        cwd = _CWD.search(_all_text(body))
        if cwd and not path.startswith(("/", "~")):
            path = f"{cwd.group(1).rstrip('/')}/{path.removeprefix('./')}"
        seed = _seed(body)
        schema = next(t.get("input_schema") or {} for t in tools if t.get("name") == name)
        filled = fill(schema)
        tool_input = {**(filled if isinstance(filled, dict) else {}), key: path}
        return Answer(
            [{"type": "text", "text": f"[simulated {model}] I'll read {named.group(1)}."},
             {"type": "tool_use", "id": f"toolu_sim{seed:08x}", "name": name,
              "input": tool_input}],
            stop_reason="tool_use")

    seed = _seed(body)
    budget = int(body.get("max_tokens") or 256)
    count = max(1, min(4, budget // 20))
    chosen = [_SENTENCES[(seed + i) % len(_SENTENCES)] for i in range(count)]
    return Answer([{"type": "text", "text": f"[simulated {model}] " + " ".join(chosen)}])
