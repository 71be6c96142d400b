"""OpenAI Responses API shapes: request checks, the stream accumulator and the event framing.

Errors use OpenAI's error object (`protocols.openai.error_body`); a stream reports a failure
as a `response.failed` event whose `response.error` holds `{code, message}`.
"""

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
from fusion_tui.protocols.openai import streamed_blocks
from fusion_tui.protocols.sse import encode_sse

ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning",
              "custom_tool_call", "custom_tool_call_output", "local_shell_call",
              "local_shell_call_output", "item_reference", "web_search_call")
MESSAGE_ROLES = ("user", "assistant", "system", "developer")
OPENING_EVENTS = 2
"""The events a stream the proxy opens itself starts with (created, in_progress)."""


def event_frame(payload: dict[str, Any]) -> bytes:
    """One Responses stream event: `event: <type>` and its JSON `data:`."""
    return encode_sse(str(payload.get("type", "")), payload)


def failed_event(status: int, message: str, response_id: str = "resp_failed",
                 sequence_number: int = 0) -> bytes:
    """A `response.failed` event (how a Responses stream reports an error)."""
    return event_frame({"type": "response.failed", "sequence_number": sequence_number,
                        "response": {"id": response_id, "object": "response",
                                     "status": "failed", "output": [],
                                     "error": {"code": error_code_for(status),
                                               "message": message}}})


def error_code_for(status: int) -> str:
    """The Responses `error.code` for an HTTP status (what Codex and the SDK read)."""
    return {400: "invalid_request_error", 401: "invalid_api_key", 403: "permission_denied",
            404: "not_found", 429: "rate_limit_exceeded", 503: "server_is_overloaded",
            529: "server_is_overloaded", 504: "timeout"}.get(status, "server_error")


def status_for_code(code: Any) -> int:
    """Best HTTP status for a Responses error code seen inside a stream."""
    text = str(code or "")
    if text.isdigit() and 400 <= int(text) <= 599:
        return int(text)
    return {"rate_limit_exceeded": 429, "insufficient_quota": 429, "invalid_api_key": 401,
            "invalid_request_error": 400, "invalid_prompt": 400, "context_length_exceeded": 400,
            "permission_denied": 403, "not_found": 404, "server_is_overloaded": 503,
            "timeout": 504}.get(text, 500)


TEXT_PARTS = ("input_text", "output_text", "text", "summary_text", "reasoning_text")


def _check_part(at: str, part: dict[str, Any]) -> None:
    """The fields of a content part the codecs read; inline images are real base64 (as on
    the other surfaces)."""
    kind = part["type"]
    if kind in TEXT_PARTS and not isinstance(part.get("text"), str):
        raise RequestError(f"{at}.text: required, a string", param=f"{at}.text")
    if kind == "refusal" and not isinstance(part.get("refusal"), str):
        raise RequestError(f"{at}.refusal: required, a string", param=f"{at}.refusal")
    if kind == "input_image":
        url = part.get("image_url")
        if url is None and isinstance(part.get("file_id"), str):
            return
        if not isinstance(url, str):
            raise RequestError(f"{at}.image_url: required, a string (or a file_id)",
                               param=f"{at}.image_url")
        head, _, data = url.partition(",")
        if head.startswith("data:") and ";base64" in head and not valid_base64(data):
            raise RequestError(f"{at}.image_url: the data URL is not valid base64",
                               param=f"{at}.image_url")


def _check_options(body: dict[str, Any]) -> None:
    """Types of the optional top-level fields the codecs and translations read."""
    for key in ("temperature", "top_p"):
        check_type(body, key, (int, float), "a number")
    check_type(body, "top_logprobs", int, "an integer")
    for key in ("parallel_tool_calls", "store", "background"):
        check_type(body, key, bool, "a boolean")
    for key in ("metadata", "text", "reasoning", "stream_options"):
        check_type(body, key, dict, "an object")
    check_type(body, "tool_choice", (str, dict), "a string or an object")
    check_type(body, "include", list, "a list")
    check_type(body, "prompt_cache_key", str, "a string")
    check_type(body, "user", str, "a string")
    text = body.get("text") or {}
    check_type(text, "format", dict, "an object", "text")
    check_type(text, "verbosity", str, "a string", "text")
    text_format = text.get("format") or {}
    check_type(text_format, "type", str, "a string", "text.format")
    check_type(text_format, "name", str, "a string", "text.format")
    check_type(text_format, "schema", dict, "an object", "text.format")
    reasoning = body.get("reasoning") or {}
    for key in ("effort", "summary", "generate_summary"):
        check_type(reasoning, key, str, "a string", "reasoning")


def _check_item(i: int, item: Any, call_ids: set[str]) -> None:
    where = f"input[{i}]"
    if not isinstance(item, dict):
        raise RequestError(f"{where}: must be an object", param=where)
    kind = item.get("type", "message")
    if kind not in ITEM_TYPES:
        raise RequestError(f"{where}.type: unsupported input item type {kind!r}",
                           param=f"{where}.type")
    if kind == "message":
        if item.get("role") not in MESSAGE_ROLES:
            raise RequestError(f"{where}.role: must be one of {', '.join(MESSAGE_ROLES)}, "
                               f"got {item.get('role')!r}", param=f"{where}.role")
        content = item.get("content")
        if not isinstance(content, str | list):
            raise RequestError(f"{where}.content: must be a string or a list of content parts",
                               param=f"{where}.content")
        for j, part in enumerate(content if isinstance(content, list) else []):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise RequestError(f"{where}.content[{j}]: must be an object with a type",
                                   param=f"{where}.content[{j}]")
            _check_part(f"{where}.content[{j}]", part)
    elif kind == "reasoning":
        for key in ("summary", "content"):
            parts = item.get(key)
            if parts is None:
                continue
            if not isinstance(parts, list):
                raise RequestError(f"{where}.{key}: must be a list of text parts",
                                   param=f"{where}.{key}")
            for j, part in enumerate(parts):
                if not isinstance(part, dict) or not isinstance(part.get("text"), str):
                    raise RequestError(f"{where}.{key}[{j}]: must be an object with a string "
                                       "text", param=f"{where}.{key}[{j}]")
    elif kind in ("function_call", "custom_tool_call"):
        if not isinstance(item.get("call_id"), str) or not isinstance(item.get("name"), str):
            raise RequestError(f"{where}: {kind} needs call_id and name", param=where)
        call_ids.add(item["call_id"])
    elif kind in ("function_call_output", "custom_tool_call_output"):
        call_id = item.get("call_id")
        if not isinstance(call_id, str):
            raise RequestError(f"{where}.call_id: required for {kind}",
                               param=f"{where}.call_id")
        if call_id not in call_ids:
            raise RequestError(f"{where}.call_id: {call_id!r} matches no function_call item "
                               "earlier in input (previous_response_id is not supported: "
                               "send the whole conversation)", param=f"{where}.call_id")
    elif kind == "item_reference":
        raise RequestError(f"{where}: item_reference needs stored responses, which this "
                           "proxy does not keep; send the items themselves", param=where)


def check_responses_request(body: Any) -> dict[str, Any]:
    """Validate what the proxy relies on; everything else passes through untouched.
    `input` given as a string is kept as it is (the codecs read both forms)."""
    body = check_object(body, "brackets")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestError("model: required, a non-empty string", param="model")
    if body.get("previous_response_id") is not None:
        raise RequestError("previous_response_id: not supported by fusion-tui (it stores no "
                           "responses; requests may be served by different models): send the "
                           "whole conversation in input, with store: false",
                           param="previous_response_id")
    if body.get("conversation") is not None:
        raise RequestError("conversation: not supported by fusion-tui; send the whole "
                           "conversation in input", param="conversation")
    items = body.get("input")
    if isinstance(items, str):
        if not items:
            raise RequestError("input: must not be empty", param="input")
    elif isinstance(items, list) and items:
        call_ids: set[str] = set()
        for i, item in enumerate(items):
            _check_item(i, item, call_ids)
    else:
        raise RequestError("input: required, a string or a non-empty list of items",
                           param="input")
    value = body.get("max_output_tokens")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise RequestError("max_output_tokens: must be a positive integer",
                           param="max_output_tokens")
    if isinstance(value, int) and value > MAX_TOKENS_LIMIT:
        raise RequestError(f"max_output_tokens: {value} is more than {MAX_TOKENS_LIMIT:,}",
                           param="max_output_tokens")
    if not isinstance(body.get("stream", False), bool | None):
        raise RequestError("stream: must be a boolean", param="stream")
    _check_options(body)
    if body.get("instructions") is not None and not isinstance(body["instructions"], str):
        raise RequestError("instructions: must be a string", param="instructions")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise RequestError("tools: must be a list", param="tools")
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
                raise RequestError(f"tools[{i}].type: required", param=f"tools[{i}].type")
            if tool["type"] == "function" and not isinstance(tool.get("name"), str):
                raise RequestError(f"tools[{i}].name: required", param=f"tools[{i}].name")
    return body


def input_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """`input` as a list of items (a string is one user message)."""
    items = body.get("input")
    if isinstance(items, str):
        return [{"type": "message", "role": "user", "content": items}]
    return [i for i in items or [] if isinstance(i, dict)]


class ResponsesAccumulator:
    """Builds the outcome of a Responses stream from its events: text, function calls,
    usage, the final status, and a failure if one came."""

    def __init__(self) -> None:
        self.text = ""
        self.calls: dict[int, dict[str, Any]] = {}
        self.usage: dict[str, Any] = {}
        self.status: str | None = None
        self.incomplete_reason: str | None = None
        self.error: dict[str, Any] | None = None
        self.finished = False

    def add(self, payload: dict[str, Any]) -> None:
        """Apply one event."""
        kind = payload.get("type")
        if kind == "response.output_text.delta":
            self.text += str(payload.get("delta") or "")
        elif kind == "response.output_item.added":
            item = payload.get("item") or {}
            if item.get("type") == "function_call":
                self.calls[int(payload.get("output_index") or 0)] = {
                    "id": item.get("call_id", ""), "name": item.get("name", ""),
                    "arguments": str(item.get("arguments") or "")}
        elif kind == "response.function_call_arguments.delta":
            call = self.calls.get(int(payload.get("output_index") or 0))
            if call is not None:
                call["arguments"] += str(payload.get("delta") or "")
        elif kind == "response.output_item.done":
            item = payload.get("item") or {}
            if item.get("type") == "function_call":
                self.calls[int(payload.get("output_index") or 0)] = {
                    "id": item.get("call_id", ""), "name": item.get("name", ""),
                    "arguments": str(item.get("arguments") or "")}
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            response = payload.get("response") or {}
            self.finished = True
            self.status = response.get("status")
            self.usage = response.get("usage") or {}
            self.incomplete_reason = (response.get("incomplete_details") or {}).get("reason")
            if kind == "response.failed":
                self.error = response.get("error") or {"message": "response failed"}
        elif kind == "error":
            self.error = {"code": payload.get("code"), "message": payload.get("message")}

    def stop_reason(self) -> str | None:
        """The stop in Anthropic's words (what ResponseFinished records for every surface)."""
        return outcome_stop(self.status, self.incomplete_reason, bool(self.calls))

    def content(self) -> list[dict[str, Any]]:
        """The answer as Anthropic-shaped blocks."""
        return streamed_blocks(self.text, self.calls)


def outcome_stop(status: str | None, reason: str | None, called: bool) -> str | None:
    """A Responses status as an Anthropic stop reason."""
    if status == "incomplete":
        return "refusal" if reason == "content_filter" else "max_tokens"
    if status == "completed":
        return "tool_use" if called else "end_turn"
    return None


def response_outcome(response: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """A complete Responses JSON answer as (Anthropic-shaped blocks, stop reason)."""
    acc = ResponsesAccumulator()
    for index, item in enumerate(response.get("output") or []):
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    acc.text += str(part.get("text") or "")
        elif item.get("type") == "function_call":
            acc.calls[index] = {"id": item.get("call_id", ""), "name": item.get("name", ""),
                                "arguments": str(item.get("arguments") or "")}
    reason = (response.get("incomplete_details") or {}).get("reason")
    return acc.content(), outcome_stop(response.get("status"), reason, bool(acc.calls))


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return orjson.dumps(value)
