"""Anthropic Messages API shapes: request checks, error bodies, and a stream accumulator."""

from __future__ import annotations

import binascii
from typing import Any

import orjson

from fusion_tui.protocols.nesting import PathStyle, check_depth

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


def check_type(body: dict[str, Any], key: str, kinds: type | tuple[type, ...], what: str,
               where: str | None = None) -> None:
    """RequestError naming `where.key` unless `body[key]` is absent, null or of `kinds` (a
    bool is never taken for a number)."""
    value = body.get(key)
    if value is not None and (not isinstance(value, kinds) or (
            isinstance(value, bool) and kinds is not bool)):
        name = f"{where}.{key}" if where else key
        raise RequestError(f"{name}: must be {what}", param=name)


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
        # Unknown block types pass through to Anthropic upstreams (the API grows new ones);
        # a translation drops them with a TranslationNote.
        if kind == "text" and not isinstance(block.get("text"), str):
            raise RequestError(f"{at}.text: required, a string")
        if kind == "tool_use":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise RequestError(f"{at}: a tool_use needs a string id and name")
            check_type(block, "input", dict, "an object", at)
            tool_uses.add(block["id"])
        elif kind == "tool_result":
            if block.get("tool_use_id") not in tool_uses:
                raise RequestError(f"{at}.tool_use_id: {block.get('tool_use_id')!r} matches "
                                   "no tool_use in an earlier assistant message")
            if block.get("content") is not None:
                _check_blocks(at, block["content"], tool_uses)
        elif kind in ("image", "document"):
            source = block.get("source")
            if isinstance(source, dict) and source.get("type") == "base64" and not \
                    valid_base64(source.get("data")):
                raise RequestError(f"{at}.source.data: not valid base64")


def check_object(body: Any, style: PathStyle = "dots") -> dict[str, Any]:
    """`body` if it is a JSON object nested no deeper than the limit; else RequestError (400)
    saying which, with the field in `style` (Anthropic's dots or OpenAI's brackets)."""
    if not isinstance(body, dict):
        raise RequestError(f"request body must be a JSON object, got {type(body).__name__}")
    deep = check_depth(body, style)
    if deep is not None:
        raise RequestError(deep[0], param=deep[1])
    return body


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise RequestError("system: must be a string or a list of text blocks")
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(
                block.get("text"), str):
            raise RequestError(f"system.{i}: must be a text block (type text, a string text)")


def _check_tools(tools: Any) -> None:
    if not isinstance(tools, list):
        raise RequestError("tools: must be a list")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise RequestError(f"tools.{i}.name: required, a string")
        check_type(tool, "description", str, "a string", f"tools.{i}")
        check_type(tool, "input_schema", dict, "an object (a JSON schema)", f"tools.{i}")
        check_type(tool.get("input_schema") or {}, "properties", dict, "an object",
                   f"tools.{i}.input_schema")


def _check_options(body: dict[str, Any]) -> None:
    """The optional fields the codecs and the simulated upstream read."""
    stops = body.get("stop_sequences")
    if stops is not None and not (isinstance(stops, list) and
                                  all(isinstance(s, str) for s in stops)):
        raise RequestError("stop_sequences: must be a list of strings")
    for key in ("temperature", "top_p"):
        check_type(body, key, (int, float), "a number")
    check_type(body, "top_k", int, "an integer")
    check_type(body, "metadata", dict, "an object")
    check_type(body.get("metadata") or {}, "user_id", str, "a string", "metadata")
    check_type(body, "thinking", dict, "an object")
    choice = body.get("tool_choice")
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool",
                                                                      "none"):
            raise RequestError("tool_choice.type: must be auto, any, tool or none")
        if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
            raise RequestError("tool_choice.name: required, a string, for type tool")
    check_type(body, "output_config", dict, "an object")
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is not None:
        if not isinstance(fmt, dict) or not isinstance(fmt.get("type"), str):
            raise RequestError("output_config.format: must be an object with a string type")
        if fmt["type"] == "json_schema" and not isinstance(fmt.get("schema"), dict):
            raise RequestError("output_config.format.schema: required, an object, for type "
                               "json_schema")


def check_messages_request(body: Any) -> dict[str, Any]:
    """Validate what the proxy relies on, and what every upstream would refuse anyway (so the
    client hears it in plain words, at once); everything else passes through untouched."""
    body = check_object(body)
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
    _check_system(body.get("system"))
    tool_uses: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise RequestError(f"messages.{i}: must be an object")
        if message.get("role") not in ("user", "assistant", "system"):
            raise RequestError(f"messages.{i}.role: must be user, assistant or system, "
                               f"got {message.get('role')!r}")
        _check_blocks(f"messages.{i}", message.get("content", ""), tool_uses)
    if body.get("tools") is not None:
        _check_tools(body["tools"])
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError("stream: must be a boolean")
    _check_options(body)
    return body


def check_count_tokens_request(body: Any) -> dict[str, Any]:
    """Validate a count_tokens body (model and messages; no max_tokens)."""
    body = check_object(body)
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


def estimate_request_tokens(body: dict[str, Any]) -> int:
    """A rough input-token count of a Messages request (messages, system and tools), for
    upstreams with no counting endpoint."""
    return (estimate_tokens(body.get("messages", [])) + estimate_tokens(body.get("system", ""))
            + estimate_tokens(body.get("tools", [])))


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
