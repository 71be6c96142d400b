"""The protocol-neutral model that translation goes through.

Only requests whose client and upstream speak different protocols take this path: the
Anthropic->Anthropic and OpenAI->OpenAI paths pass the client's JSON through and never build
these objects. Each adapter decodes its wire shape into these dataclasses and encodes them
back; whatever one side can say and the other cannot is dropped and recorded in `Notes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
StopReason = Literal["end", "length", "tool_calls", "stop_sequence", "refusal", "pause"]


@dataclass
class Text:
    """Plain text."""

    text: str


@dataclass
class Image:
    """An image, inline (`data` base64 with `media_type`) or by `url`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None


@dataclass
class Document:
    """A document (PDF or text): inline base64 `data`, a `url`, or plain `text`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    text: str | None = None
    title: str | None = None


@dataclass
class Thinking:
    """Model reasoning; `signature` is Anthropic's integrity token (None where there is none)."""

    text: str
    signature: str | None = None


@dataclass
class RedactedThinking:
    """Encrypted reasoning only Anthropic can read back."""

    data: str


@dataclass
class ToolCall:
    """The model calls a tool. `arguments` is JSON text (OpenAI streams it in pieces)."""

    id: str
    name: str
    arguments: str = ""


@dataclass
class ToolResult:
    """The result of a tool call, sent back by the client."""

    call_id: str
    content: list[Text | Image | Document] = field(default_factory=list)
    is_error: bool = False


@dataclass
class Opaque:
    """A block only its own protocol understands (server-tool blocks and the like)."""

    protocol: str
    raw: dict[str, Any]


Part = Text | Image | Document | Thinking | RedactedThinking | ToolCall | ToolResult | Opaque


@dataclass
class Message:
    """One turn. Tool results travel in user messages, as in Anthropic's model."""

    role: Role
    parts: list[Part] = field(default_factory=list)


@dataclass
class Tool:
    """A function the model may call; `parameters` is its JSON schema."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object"})


@dataclass
class ToolChoice:
    """auto | none | required (some tool) | named (`name`)."""

    mode: Literal["auto", "none", "required", "named"] = "auto"
    name: str | None = None


@dataclass
class Request:
    """A chat request. `messages` keeps system messages where the client put them."""

    model: str
    messages: list[Message] = field(default_factory=list)
    max_tokens: int | None = None
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    json_schema: dict[str, Any] | None = None
    """Structured output: {"name": ..., "schema": {...}, "strict": bool|None}."""
    user: str | None = None
    effort: str | None = None
    """Reasoning effort: Anthropic's output_config.effort, Chat Completions'
    reasoning_effort, Responses' reasoning.effort (values passed through as they are)."""
    include_usage: bool = False
    """OpenAI streams: send a final usage chunk."""


@dataclass
class Usage:
    """Token counts. `input_tokens` excludes cache reads and writes (Anthropic's meaning)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """All input tokens, cached or not (OpenAI's `prompt_tokens`)."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass
class Response:
    """A complete assistant answer."""

    id: str
    model: str
    parts: list[Part] = field(default_factory=list)
    stop: StopReason | None = "end"
    usage: Usage = field(default_factory=Usage)
    stop_sequence: str | None = None


# Stream events. Indexes are neutral part indexes (Anthropic's content block indexes).


@dataclass
class StreamStart:
    """The answer begins."""

    id: str
    model: str
    usage: Usage = field(default_factory=Usage)


@dataclass
class PartStart:
    """A part opens: Text(""), Thinking(""), ToolCall(id, name, ""), or Opaque."""

    index: int
    part: Part


@dataclass
class PartDelta:
    """More of an open part: text, thinking, a signature, or tool-argument JSON text."""

    index: int
    kind: Literal["text", "thinking", "signature", "arguments"]
    value: str


@dataclass
class PartStop:
    """A part is complete."""

    index: int


@dataclass
class StreamStop:
    """The answer is complete, with its stop reason and final usage."""

    stop: StopReason | None
    usage: Usage = field(default_factory=Usage)
    stop_sequence: str | None = None


@dataclass
class StreamFailed:
    """The upstream reported an error inside the stream."""

    status: int
    message: str


StreamEvent = StreamStart | PartStart | PartDelta | PartStop | StreamStop | StreamFailed


class Notes:
    """What a translation could not carry, each said once, in order."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, note: str) -> None:
        """Record `note` unless it was already recorded."""
        if note not in self.items:
            self.items.append(note)
