"""Salient, bounded segments of an Anthropic Messages request, for the gate. Sans-IO.

Claude Code sends a 7 KB system prompt, a long environment system message and harness
reminders on every turn; embedded whole they drown what the user asked. The gate embeds
these named pieces instead and weighs them separately."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fusion_tui.config.embeddings import GateSettings

REMINDER = re.compile(r"<system-reminder>(.*?)</system-reminder>", re.S)
CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.S)
# A text block made only of tagged elements (`<environment_context>...</environment_context>`
# from Codex, `<local-command-caveat>`, `<command-name>`, `<local-command-stdout>` from Claude
# Code) is written by the harness, not typed by the person: structure, not a word list.
HARNESS_ELEMENTS = re.compile(r"(?:\s*<([A-Za-z][\w-]*)(?:\s[^>]*)?>.*?</\1>)+\s*", re.S)
_BILLING = "x-anthropic-billing-header"

# Names of the segments the classifier embeds, in feature order.
CLASSIFIER_SEGMENTS = ("user", "history", "assistant", "tools", "code", "system")


@dataclass(frozen=True)
class HarnessChunk:
    """A piece of harness text: a system message, a reminder, or the system prompt's tail.
    `position` orders chunks as they appear in the conversation (-1: the system prompt)."""

    source: str  # "system_message" | "reminder" | "system_prompt"
    position: int
    text: str


@dataclass(frozen=True)
class Structure:
    """Countable facts of a request, beside its words: the classifier's structural inputs and
    the request-kind check's structural evidence."""

    messages: int = 0
    human_turns: int = 0
    tool_results_now: int = 0
    tool_chars_now: int = 0
    tool_errors_now: int = 0
    tool_errors_total: int = 0
    tool_uses_total: int = 0
    files_touched: int = 0
    ask_chars: int = 0
    last_is_tool_result: bool = False
    tools_offered: int = 0
    tools_declared_empty: bool = False
    structured_output: bool = False
    code_in_ask: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        """The facts by name (for recording and explaining)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(frozen=True)
class Segments:
    """The named segments of one request. Empty strings mean the request has none."""

    user: str = ""
    history: str = ""
    assistant: str = ""
    tools: str = ""
    code: str = ""
    system: str = ""
    harness: tuple[HarnessChunk, ...] = ()
    permission_mode: str | None = None
    tool_count: int = 0
    extras: dict[str, str] = field(default_factory=dict)
    structure: Structure = field(default_factory=lambda: Structure())

    def named(self) -> dict[str, str]:
        """The classifier segments that are not empty, by name."""
        return {name: getattr(self, name) for name in CLASSIFIER_SEGMENTS if getattr(self, name)}


def clip(text: str, limit: int, *, tail: bool = False) -> str:
    """At most `limit` characters (the head, or the tail), whitespace-trimmed."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[-limit:].lstrip() if tail else text[:limit].rstrip()


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _block_text(block: dict[str, Any]) -> str:
    if block.get("type") == "text":
        return str(block.get("text") or "")
    if block.get("type") == "tool_result":
        return "\n".join(_block_text(b) for b in _blocks(block.get("content")))
    return ""


def split_reminders(text: str) -> tuple[str, list[str]]:
    """(text without <system-reminder> blocks, the reminders' bodies)."""
    reminders = [m.strip() for m in REMINDER.findall(text)]
    return REMINDER.sub("", text).strip(), reminders


def _human_text(message: dict[str, Any]) -> tuple[str, list[str]]:
    texts: list[str] = []
    reminders: list[str] = []
    for block in _blocks(message.get("content")):
        if block.get("type") != "text":
            continue
        clean, found = split_reminders(str(block.get("text") or ""))
        reminders.extend(found)
        if HARNESS_ELEMENTS.fullmatch(clean):
            reminders.append(clean)
        elif clean:
            texts.append(clean)
    return "\n".join(texts).strip(), reminders


def _tool_results(message: dict[str, Any]) -> list[str]:
    out = []
    for block in _blocks(message.get("content")):
        if block.get("type") == "tool_result":
            text = split_reminders(_block_text(block))[0]
            out.append(("[error] " if block.get("is_error") else "") + text)
    return out


def _system_text(system: Any) -> str:
    parts = []
    for block in _blocks(system):
        text = str(block.get("text") or "")
        # The billing line changes on every request and says nothing about the task.
        if text.startswith(_BILLING):
            continue
        parts.append(text)
    return "\n".join(parts).strip()


def chunk_text(text: str, limit: int) -> list[str]:
    """Split on blank lines into chunks of at most `limit` characters (long paragraphs are cut)."""
    chunks: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        while len(para) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(para[:limit])
            para = para[limit:]
        if not para:
            continue
        if current and len(current) + len(para) + 2 > limit:
            chunks.append(current)
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current:
        chunks.append(current)
    return chunks


def permission_mode(body: dict[str, Any]) -> str | None:
    """`safeguards[...].classifier_context.permission_mode`, wherever it sits, else None."""
    stack: list[Any] = [body.get("safeguards")]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ctx = node.get("classifier_context")
            if isinstance(ctx, dict) and isinstance(ctx.get("permission_mode"), str):
                return str(ctx["permission_mode"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


_PATH_KEYS = ("file_path", "path", "notebook_path", "filePath", "filename")


def _tool_uses(messages: list[dict[str, Any]]) -> tuple[int, int]:
    """(tool calls made so far, distinct files they named)."""
    calls = 0
    files: set[str] = set()
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for block in _blocks(message.get("content")):
            if block.get("type") != "tool_use":
                continue
            calls += 1
            inputs = block.get("input")
            if isinstance(inputs, dict):
                files.update(str(inputs[k]) for k in _PATH_KEYS if isinstance(inputs.get(k), str))
    return calls, len(files)


def structured_output(body: dict[str, Any]) -> bool:
    """Whether the request asks for JSON-schema output (Anthropic `output_config.format`,
    or a translated `response_format`)."""
    for key in ("output_config", "response_format"):
        node = body.get(key)
        if isinstance(node, dict):
            fmt = node.get("format", node) if key == "output_config" else node
            if isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object"):
                return True
    return False


def largest_code_block(*texts: str) -> str:
    """The longest fenced code block in the texts (its body), or ""."""
    best = ""
    for text in texts:
        for body in CODE_BLOCK.findall(text):
            if len(body) > len(best):
                best = body
    return best.strip()


def extract(body: dict[str, Any], settings: GateSettings | None = None,
            max_harness_chunks: int = 16, per_message: int = 3) -> Segments:
    """Build the segments of a Messages request body (never raises on odd shapes)."""
    s = settings or GateSettings()
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    harness: list[HarnessChunk] = []
    human: list[tuple[int, str]] = []
    last_human = -1
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "system":
            text = "\n".join(_block_text(b) for b in _blocks(message.get("content")))
            # Harness text is appended at the end of a system message; its head is the
            # constant environment description.
            harness.extend(HarnessChunk("system_message", i, c)
                           for c in chunk_text(text, s.harness_chars)[-per_message:])
        elif role == "user":
            text, reminders = _human_text(message)
            for reminder in reminders:
                harness.extend(HarnessChunk("reminder", i, c)
                               for c in chunk_text(reminder, s.harness_chars)[-per_message:])
            if text:
                human.append((i, text))
                last_human = i
    user = clip(human[-1][1], s.user_chars) if human else ""
    previous = [text for _, text in reversed(human[:-1])][: s.history_turns]
    history = clip("\n---\n".join(previous), s.history_chars)

    tools: list[str] = []
    for message in messages[last_human + 1:]:
        if message.get("role") == "user":
            tools.extend(_tool_results(message))
    errors_total = sum(1 for m in messages if m.get("role") == "user"
                       for b in _blocks(m.get("content"))
                       if b.get("type") == "tool_result" and b.get("is_error"))
    assistant = ""
    # The assistant's last words before the human's latest turn give a terse reply its meaning.
    for message in reversed(messages[: max(last_human, 0)]):
        if message.get("role") == "assistant":
            assistant = "\n".join(_block_text(b) for b in _blocks(message.get("content")))
            break
    tools_text = clip("\n---\n".join(tools), s.tool_chars, tail=True)
    code = largest_code_block(human[-1][1] if human else "", *tools)

    system_full = _system_text(body.get("system"))
    system = clip(system_full, s.system_chars)
    tail = system_full[s.system_chars:]
    if tail:
        # Plan-mode text may also be appended to the system prompt by other harnesses.
        harness[:0] = [HarnessChunk("system_prompt", -1, c)
                       for c in chunk_text(tail, s.harness_chars)[-2:]]
    calls, files = _tool_uses(messages)
    raw_tools = body.get("tools")
    last = next((m for m in reversed(messages) if m.get("role") != "system"), None)
    structure = Structure(
        messages=len(messages),
        human_turns=len(human),
        tool_results_now=len(tools),
        tool_chars_now=sum(len(t) for t in tools),
        tool_errors_now=sum(1 for t in tools if t.startswith("[error] ")),
        tool_errors_total=errors_total,
        tool_uses_total=calls,
        files_touched=files,
        ask_chars=len(human[-1][1]) if human else 0,
        last_is_tool_result=bool(last is not None and last.get("role") == "user"
                                 and _tool_results(last)),
        tools_offered=len(raw_tools) if isinstance(raw_tools, list) else 0,
        tools_declared_empty=isinstance(raw_tools, list) and not raw_tools,
        structured_output=structured_output(body),
        code_in_ask=bool(human and CODE_BLOCK.search(human[-1][1])),
    )
    return Segments(
        user=user,
        history=history,
        assistant=clip(assistant, 600, tail=True),
        tools=tools_text,
        code=clip(code, s.code_chars),
        system=system,
        harness=tuple(harness[-max_harness_chunks:]),
        permission_mode=permission_mode(body),
        tool_count=structure.tools_offered,
        structure=structure,
    )
