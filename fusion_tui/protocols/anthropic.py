"""Anthropic Messages API shapes: request checks, error bodies, and a stream accumulator."""

from __future__ import annotations

import binascii
from typing import Any

import orjson

# HTTP status -> Anthropic error type, as the API documents them.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type_for(status: int) -> str:
    """The Anthropic error type for an HTTP status."""
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "invalid_request_error" if status < 500 else "api_error"


def error_body(status: int, message: str, error_type: str | None = None) -> dict[str, Any]:
    """An Anthropic error object: {"type":"error","error":{"type":...,"message":...}}."""
    return {"type": "error", "error": {"type": error_type or error_type_for(status),
                                       "message": message}}


class RequestError(ValueError):
    """A client request that cannot be served; `status` is the HTTP status to answer with,
    `param` the offending field where the protocol's error shape has room for it."""

    def __init__(self, message: str, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param


MAX_TOKENS_LIMIT = 1_000_000
"""max_tokens above this is refused as absurd (no model writes that much in one answer)."""


def valid_base64(data: Any) -> bool:
    """Whether `data` is a string of strict base64."""
    if not isinstance(data, str) or not data:
        return False
    try:
        binascii.a2b_base64(data.encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


def _check_blocks(where: str, content: Any, tool_uses: set[str]) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise RequestError(f"{where}.content: must be a string or a list of content blocks")
    for j, block in enumerate(content):
        at = f"{where}.content.{j}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise RequestError(f"{at}: must be an object with a string `type`")
        kind = block["type"]
        # Unknown block types pass through: the API grows new ones (server tools, ...).
        if kind == "tool_use" and isinstance(block.get("id"), str):
            tool_uses.add(block["id"])
        elif kind == "tool_result" and block.get("tool_use_id") not in tool_uses:
            raise RequestError(f"{at}.tool_use_id: {block.get('tool_use_id')!r} matches no "
                               "tool_use in an earlier assistant message")
        elif kind in ("image", "document"):
            source = block.get("source")
            if isinstance(source, dict) and source.get("type") == "base64" and not \
                    valid_base64(source.get("data")):
                raise RequestError(f"{at}.source.data: not valid base64")


def check_messages_request(body: Any) -> dict[str, Any]:
    """Validate what the proxy relies on, and what every upstream would refuse anyway (so the
    client hears it in plain words, at once); everything else passes through untouched."""
    if not isinstance(body, dict):
        raise RequestError(f"request body must be a JSON object, got {type(body).__name__}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("model: required, a non-empty string")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("messages: required, a non-empty list of messages")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise RequestError("max_tokens: required, a positive integer")
    if max_tokens > MAX_TOKENS_LIMIT:
        raise RequestError(f"max_tokens: {max_tokens} is more than {MAX_TOKENS_LIMIT:,}")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise RequestError("system: must be a string or a list of text blocks")
    tool_uses: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise RequestError(f"messages.{i}: must be an object")
        if message.get("role") not in ("user", "assistant", "system"):
            raise RequestError(f"messages.{i}.role: must be user, assistant or system, "
                               f"got {message.get('role')!r}")
        _check_blocks(f"messages.{i}", message.get("content", ""), tool_uses)
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise RequestError("tools: must be a list")
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                raise RequestError(f"tools.{i}.name: required, a string")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError("stream: must be a boolean")
    return body


def check_count_tokens_request(body: Any) -> dict[str, Any]:
    """Validate a count_tokens body (model and messages; no max_tokens)."""
    if not isinstance(body, dict):
        raise RequestError(f"request body must be a JSON object, got {type(body).__name__}")
    if not isinstance(body.get("model"), str):
        raise RequestError("model: required, a string")
    if not isinstance(body.get("messages"), list):
        raise RequestError("messages: required, a list of messages")
    return body


def text_of(content: Any) -> str:
    """The plain text of a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_result":
            parts.append(text_of(block.get("content", "")))
    return "\n".join(parts)


def estimate_tokens(value: Any) -> int:
    """A rough token count (about four bytes of JSON per token); used where no tokenizer is."""
    raw = value if isinstance(value, bytes | str) else orjson.dumps(value)
    return max(1, len(raw) // 4)


class MessageAccumulator:
    """Builds the final message from a stream of Anthropic SSE event payloads.

    Keeps the content blocks (text joined, tool input JSON parsed), usage, stop reason and
    whether the stream finished (`message_stop`) or carried an error.
    """

    def __init__(self) -> None:
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self._partial_json: dict[int, list[str]] = {}
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.finished = False
        self.error: dict[str, Any] | None = None
        self.events = 0

    def add(self, event_type: str, payload: dict[str, Any]) -> None:
        """Apply one event (its `type` and parsed data)."""
        self.events += 1
        if event_type == "message_start":
            self.message = dict(payload.get("message") or {})
            self.usage.update(self.message.get("usage") or {})
        elif event_type == "content_block_start":
            index = int(payload.get("index", len(self.blocks)))
            self.blocks[index] = dict(payload.get("content_block") or {})
        elif event_type == "content_block_delta":
            self._apply_delta(int(payload.get("index", 0)), payload.get("delta") or {})
        elif event_type == "content_block_stop":
            self._close_block(int(payload.get("index", 0)))
        elif event_type == "message_delta":
            delta = payload.get("delta") or {}
            self.stop_reason = delta.get("stop_reason", self.stop_reason)
            self.usage.update(payload.get("usage") or {})
        elif event_type == "message_stop":
            self.finished = True
        elif event_type == "error":
            self.error = payload.get("error") or payload

    def _apply_delta(self, index: int, delta: dict[str, Any]) -> None:
        block = self.blocks.setdefault(index, {"type": "text", "text": ""})
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + delta.get("text", "")
        elif kind == "input_json_delta":
            self._partial_json.setdefault(index, []).append(delta.get("partial_json", ""))
        elif kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature", "")

    def _close_block(self, index: int) -> None:
        pieces = self._partial_json.pop(index, None)
        if pieces is not None and index in self.blocks:
            joined = "".join(pieces)
            try:
                self.blocks[index]["input"] = orjson.loads(joined) if joined else {}
            except orjson.JSONDecodeError:
                self.blocks[index]["input"] = {"_unparsed": joined}

    def content(self) -> list[dict[str, Any]]:
        """The content blocks in order."""
        return [self.blocks[i] for i in sorted(self.blocks)]

    @property
    def input_tokens(self) -> int:
        """Input tokens reported by the upstream (0 if none)."""
        return int(self.usage.get("input_tokens") or 0)

    @property
    def output_tokens(self) -> int:
        """Output tokens reported by the upstream (0 if none)."""
        return int(self.usage.get("output_tokens") or 0)
