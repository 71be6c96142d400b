"""OpenAI Chat Completions shapes: request checks, error bodies, and a chunk accumulator."""

from __future__ import annotations

from typing import Any

import orjson

from fusion_tui.protocols.anthropic import (
    MAX_TOKENS_LIMIT,
    RequestError,
    check_object,
    check_type,
    valid_base64,
)
from fusion_tui.protocols.nesting import within_depth

# HTTP status -> OpenAI error type. OpenAI's SDK maps errors by status; the type is for people.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
    529: "service_unavailable",
}

# OpenAI (and compatible servers') error type -> HTTP status, for errors inside a stream.
STATUS_FOR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "tokens": 429,
    "requests": 429,
    "timeout": 504,
    "service_unavailable": 503,
    "overloaded_error": 529,
}

ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def error_type_for(status: int) -> str:
    """The OpenAI error type for an HTTP status."""
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "invalid_request_error" if status < 500 else "server_error"


def error_body(status: int, message: str, error_type: str | None = None,
               param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """An OpenAI error object: {"error":{"message","type","param","code"}}."""
    return {"error": {"message": message, "type": error_type or error_type_for(status),
                      "param": param, "code": code}}


def status_for_error(error: dict[str, Any]) -> int:
    """Best HTTP status for an OpenAI error object seen where no status line is (a stream)."""
    code = error.get("code")
    if isinstance(code, int) and 400 <= code <= 599:
        return code
    if isinstance(code, str) and code.isdigit() and 400 <= int(code) <= 599:
        return int(code)
    return STATUS_FOR_TYPE.get(str(error.get("type") or code or ""), 500)


def _token_limit(body: dict[str, Any], key: str) -> None:
    value = body.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError(f"{key}: must be a positive integer", param=key)
    if value > MAX_TOKENS_LIMIT:
        raise RequestError(f"{key}: {value} is more than {MAX_TOKENS_LIMIT:,}", param=key)


def _check_part(at: str, part: dict[str, Any]) -> None:
    """The fields of a content part the codecs read; inline images are real base64."""
    kind = part["type"]
    if kind in ("text", "refusal") and not isinstance(part.get(kind), str):
        raise RequestError(f"{at}.{kind}: required, a string", param=f"{at}.{kind}")
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else None
        if not isinstance(url, str):
            raise RequestError(f"{at}.image_url: must be an object with a string url",
                               param=f"{at}.image_url")
        head, _, data = url.partition(",")
        if head.startswith("data:") and ";base64" in head and not valid_base64(data):
            raise RequestError(f"{at}.image_url.url: the data URL is not valid base64",
                               param=f"{at}.image_url")
    elif kind == "file" and not isinstance(part.get("file"), dict):
        raise RequestError(f"{at}.file: must be an object", param=f"{at}.file")


def _check_message(i: int, message: Any) -> None:
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        raise RequestError(f"{where}: must be an object", param=where)
    role = message.get("role")
    if role not in ROLES:
        raise RequestError(f"{where}.role: must be one of {', '.join(ROLES)}, got {role!r}",
                           param=f"{where}.role")
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        raise RequestError(f"{where}.content: must be a string or a list of content parts",
                           param=f"{where}.content")
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise RequestError(f"{where}.content[{j}]: must be an object with a type",
                                   param=f"{where}.content[{j}]")
            _check_part(f"{where}.content[{j}]", part)
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise RequestError(f"{where}.tool_call_id: required for role tool",
                           param=f"{where}.tool_call_id")
    calls = message.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise RequestError(f"{where}.tool_calls: must be a list",
                               param=f"{where}.tool_calls")
        for j, call in enumerate(calls):
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise RequestError(f"{where}.tool_calls[{j}].function.name: required",
                                   param=f"{where}.tool_calls[{j}].function.name")
            check_type(fn, "arguments", str, "a string (the arguments as JSON text)",
                   f"{where}.tool_calls[{j}].function")


def _check_references(i: int, message: dict[str, Any], call_ids: set[str]) -> None:
    """Tool results answer an earlier tool call."""
    for call in message.get("tool_calls") or []:
        if isinstance(call.get("id"), str):
            call_ids.add(call["id"])
    if message.get("role") == "tool" and message["tool_call_id"] not in call_ids:
        where = f"messages[{i}]"
        raise RequestError(f"{where}.tool_call_id: {message['tool_call_id']!r} matches no "
                           "tool call of an earlier assistant message",
                           param=f"{where}.tool_call_id")


def _check_tools(tools: Any) -> None:
    if not isinstance(tools, list):
        raise RequestError("tools: must be a list", param="tools")
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise RequestError(f"tools[{i}].function.name: required",
                               param=f"tools[{i}].function.name")
        check_type(fn, "description", str, "a string", f"tools[{i}].function")
        check_type(fn, "parameters", dict, "an object (a JSON schema)", f"tools[{i}].function")


def _check_tool_choice(choice: Any) -> None:
    if choice is None or choice in ("none", "auto", "required"):
        return
    fn = choice.get("function") if isinstance(choice, dict) else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or \
            choice.get("type", "function") != "function":
        raise RequestError('tool_choice: must be "none", "auto", "required" or {"type": '
                           '"function", "function": {"name": ...}}', param="tool_choice")


def _check_format(fmt: Any) -> None:
    if fmt is None:
        return
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object",
                                                            "json_schema"):
        raise RequestError("response_format.type: must be text, json_object or json_schema",
                           param="response_format")
    if fmt["type"] == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict):
            raise RequestError("response_format.json_schema: required for type json_schema",
                               param="response_format.json_schema")
        check_type(spec, "name", str, "a string", "response_format.json_schema")
        check_type(spec, "schema", dict, "an object (a JSON schema)",
               "response_format.json_schema")


def check_chat_request(body: Any) -> dict[str, Any]:
    """Validate what the proxy relies on and the type of every field the codecs read (a 400
    naming the field in `param`); everything else passes through untouched."""
    body = check_object(body, "brackets")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestError("model: required, a non-empty string", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("messages: required, a non-empty list of messages", param="messages")
    call_ids: set[str] = set()
    for i, message in enumerate(messages):
        _check_message(i, message)
        _check_references(i, message, call_ids)
    _token_limit(body, "max_tokens")
    _token_limit(body, "max_completion_tokens")
    check_type(body, "stream", bool, "a boolean")
    check_type(body, "stream_options", dict, "an object")
    check_type(body, "temperature", (int, float), "a number")
    check_type(body, "top_p", (int, float), "a number")
    check_type(body, "parallel_tool_calls", bool, "a boolean")
    check_type(body, "user", str, "a string")
    check_type(body, "safety_identifier", str, "a string")
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str) and not (
            isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise RequestError("stop: must be a string or a list of strings", param="stop")
    if body.get("tools") is not None:
        _check_tools(body["tools"])
    _check_tool_choice(body.get("tool_choice"))
    _check_format(body.get("response_format"))
    n = body.get("n")
    if n is not None and n != 1:
        raise RequestError("n: only 1 choice is supported", param="n")
    return body


def parse_arguments(raw: str) -> dict[str, Any]:
    """Tool-call argument JSON as an object; text that does not parse, or nests deeper than
    the request limit (it could not be written out again), is kept under `_unparsed`."""
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {"_unparsed": raw}
    if isinstance(value, dict | list) and not within_depth(value):
        return {"_unparsed": raw}
    return value if isinstance(value, dict) else {"_value": value}


class ChatAccumulator:
    """Builds the outcome of a Chat Completions stream from its `data:` payloads.

    Tracks text, tool calls (arguments joined), usage, the finish reason, whether `[DONE]`
    arrived, and an error chunk if one came.
    """

    def __init__(self) -> None:
        self.text = ""
        self.calls: dict[int, dict[str, Any]] = {}
        self.usage: dict[str, Any] = {}
        self.finish_reason: str | None = None
        self.done = False
        self.error: dict[str, Any] | None = None

    def add(self, data: str) -> bool:
        """Apply one `data:` payload (JSON text, or `[DONE]`); False if it is neither a JSON
        object nor `[DONE]` (nothing is applied)."""
        if data.strip() == "[DONE]":
            self.done = True
            return True
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(chunk, dict):
            return False
        self.add_chunk(chunk)
        return True

    def add_chunk(self, chunk: dict[str, Any]) -> None:
        """Apply one chunk already parsed (a JSON object)."""
        if isinstance(chunk.get("error"), dict):
            self.error = chunk["error"]
            return
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            self.text += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                entry = self.calls.setdefault(int(call.get("index", len(self.calls))),
                                              {"id": "", "name": "", "arguments": ""})
                fn = call.get("function") or {}
                entry["id"] = call.get("id") or entry["id"]
                entry["name"] = fn.get("name") or entry["name"]
                entry["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def content(self) -> list[dict[str, Any]]:
        """The answer as Anthropic-shaped blocks (what ResponseFinished records)."""
        return streamed_blocks(self.text, self.calls)


def streamed_blocks(text: str, calls: dict[int, dict[str, str]]) -> list[dict[str, Any]]:
    """Text and tool calls gathered from an OpenAI-family stream (calls by position, with id,
    name and argument JSON) as Anthropic-shaped blocks, what ResponseFinished records."""
    blocks: list[dict[str, Any]] = []
    if text:
        blocks.append({"type": "text", "text": text})
    for i in sorted(calls):
        call = calls[i]
        blocks.append({"type": "tool_use", "id": call["id"], "name": call["name"],
                       "input": parse_arguments(call["arguments"])})
    return blocks


def response_content(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A complete response's first choice as Anthropic-shaped blocks (for ResponseFinished)."""
    acc = ChatAccumulator()
    choice = (message.get("choices") or [{}])[0]
    msg = choice.get("message") or {}
    content = msg.get("content")
    acc.text = content if isinstance(content, str) else ""
    for i, call in enumerate(msg.get("tool_calls") or []):
        fn = call.get("function") or {}
        acc.calls[i] = {"id": call.get("id", ""), "name": fn.get("name", ""),
                        "arguments": fn.get("arguments") or ""}
    return acc.content()
