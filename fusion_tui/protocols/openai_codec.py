"""OpenAI Chat Completions wire shapes <-> the neutral model: requests and responses.

Streams are in `openai_stream`.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

import orjson

from fusion_tui.protocols import neutral as n

STOP_FROM_WIRE: dict[str, n.StopReason] = {
    "stop": "end", "length": "length", "tool_calls": "tool_calls", "function_call": "tool_calls",
    "content_filter": "refusal",
}
STOP_TO_WIRE: dict[str, str] = {
    "end": "stop", "stop_sequence": "stop", "length": "length", "tool_calls": "tool_calls",
    "refusal": "content_filter", "pause": "stop",
}
# Request keys with no Anthropic counterpart; each dropped with a note when present.
UNCARRIED = ("logprobs", "top_logprobs", "logit_bias", "presence_penalty", "frequency_penalty",
             "seed", "audio", "modalities", "prediction", "web_search_options")
_DATA_URL = re.compile(r"^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$", re.S)
MAX_STOP = 4

TokenField = Literal["max_tokens", "max_completion_tokens"]


# ---- decoding (OpenAI wire -> neutral) ----------------------------------------------------


def _data_url(url: str) -> tuple[str | None, str] | None:
    match = _DATA_URL.match(url)
    return (match.group(1), match.group(2)) if match else None


def decode_part(part: dict[str, Any], notes: n.Notes) -> n.Part | None:
    """One content part as a neutral part (None where it cannot be carried)."""
    kind = part.get("type")
    if kind == "text":
        return n.Text(str(part.get("text", "")))
    if kind == "refusal":
        return n.Text(str(part.get("refusal", "")))
    if kind == "image_url":
        url = str((part.get("image_url") or {}).get("url", ""))
        inline = _data_url(url)
        if inline:
            return n.Image(media_type=inline[0], data=inline[1])
        return n.Image(url=url)
    if kind == "file":
        file = part.get("file") or {}
        inline = _data_url(str(file.get("file_data", "")))
        if inline:
            return n.Document(media_type=inline[0], data=inline[1], title=file.get("filename"))
        notes.add("file parts by file_id cannot be carried; dropped")
        return None
    notes.add(f"content part {kind} has no Anthropic equivalent; dropped")
    return None


def decode_content(content: Any, notes: n.Notes) -> list[n.Part]:
    """Message content (a string, a list of parts, or null) as neutral parts."""
    if isinstance(content, str):
        return [n.Text(content)] if content else []
    if not isinstance(content, list):
        return []
    return [p for p in (decode_part(x, notes) for x in content if isinstance(x, dict)) if p]


def _decode_assistant(message: dict[str, Any], notes: n.Notes) -> n.Message:
    parts: list[n.Part] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        parts.append(n.Thinking(reasoning))
    parts.extend(decode_content(message.get("content"), notes))
    if message.get("refusal"):
        parts.append(n.Text(str(message["refusal"])))
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        parts.append(n.ToolCall(str(call.get("id", "")), str(fn.get("name", "")),
                                str(fn.get("arguments") or "")))
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        parts.append(n.ToolCall(str(legacy.get("name", "")), str(legacy.get("name", "")),
                                str(legacy.get("arguments") or "")))
    return n.Message("assistant", parts)


def decode_request(body: dict[str, Any], notes: n.Notes) -> n.Request:
    """An OpenAI Chat Completions request body as a neutral request."""
    options = body.get("stream_options") or {}
    stop = body.get("stop")
    req = n.Request(
        model=str(body.get("model", "")),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        stream=bool(body.get("stream")), temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop=[stop] if isinstance(stop, str) else list(stop or []),
        parallel_tool_calls=body.get("parallel_tool_calls"),
        user=body.get("safety_identifier") or body.get("user"),
        include_usage=bool(options.get("include_usage")))
    for message in body.get("messages") or []:
        role = message.get("role")
        if role in ("system", "developer"):
            req.messages.append(n.Message("system", decode_content(message.get("content"),
                                                                   notes)))
        elif role == "user":
            req.messages.append(n.Message("user", decode_content(message.get("content"),
                                                                 notes)))
        elif role == "assistant":
            req.messages.append(_decode_assistant(message, notes))
        else:  # tool, or the legacy function role
            content = [p for p in decode_content(message.get("content"), notes)
                       if isinstance(p, n.Text | n.Image | n.Document)]
            result = n.ToolResult(str(message.get("tool_call_id") or message.get("name", "")),
                                  content)
            last = req.messages[-1] if req.messages else None
            if last and last.role == "user" and all(isinstance(p, n.ToolResult)
                                                    for p in last.parts):
                last.parts.append(result)
            else:
                req.messages.append(n.Message("user", [result]))
    for tool in body.get("tools") or []:
        fn = tool.get("function") or {}
        req.tools.append(n.Tool(str(fn.get("name", "")), fn.get("description"),
                                fn.get("parameters") or {"type": "object", "properties": {}}))
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice in ("auto", "none", "required"):
        req.tool_choice = n.ToolChoice(choice)  # type: ignore[arg-type]
    elif isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        req.tool_choice = n.ToolChoice("named", name)
    fmt = body.get("response_format") or {}
    decode_json_format(req, notes, "response_format", fmt.get("type"),
                       fmt.get("json_schema") or {})
    for key in UNCARRIED:
        if body.get(key) is not None:
            notes.add(f"{key} has no Anthropic equivalent; dropped")
    effort = body.get("reasoning_effort")
    req.effort = effort if isinstance(effort, str) and effort else None
    return req


def decode_json_format(req: n.Request, notes: n.Notes, field: str, kind: Any,
                       spec: dict[str, Any]) -> None:
    """An OpenAI-family structured-output request (`field` names where it came from): a JSON
    schema is carried; bare JSON mode has no schema to enforce, so it is asked for in the
    system prompt instead, and noted."""
    if kind == "json_schema":
        req.json_schema = {"name": spec.get("name", "output"), "schema": spec.get("schema") or {},
                           "strict": spec.get("strict")}
    elif kind == "json_object":
        notes.add(f"{field} json_object has no schema to enforce; asked for in the system "
                  "prompt instead")
        req.messages.insert(0, n.Message("system", [n.Text("Respond with a single JSON object "
                                                           "and nothing else.")]))


def decode_usage(usage: dict[str, Any] | None) -> n.Usage:
    """OpenAI usage as neutral usage (`prompt_tokens` counts cached tokens; ours does not)."""
    usage = usage or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    reasoning = int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    return n.Usage(input_tokens=max(0, prompt - cached),
                   output_tokens=int(usage.get("completion_tokens") or 0),
                   cache_read_tokens=cached, reasoning_tokens=reasoning)


def decode_stop(reason: str | None, has_tool_calls: bool) -> n.StopReason:
    """A finish_reason as a neutral stop reason. Some compatible servers say `stop` after
    tool calls; a turn that called tools stopped for them."""
    stop = STOP_FROM_WIRE.get(str(reason), "end")
    return "tool_calls" if has_tool_calls and stop == "end" else stop


def decode_response(body: dict[str, Any], notes: n.Notes) -> n.Response:
    """A complete chat completion (first choice) as a neutral response."""
    choice = (body.get("choices") or [{}])[0]
    message = _decode_assistant(choice.get("message") or {}, notes)
    has_calls = any(isinstance(p, n.ToolCall) for p in message.parts)
    return n.Response(id=str(body.get("id", "")), model=str(body.get("model", "")),
                      parts=message.parts, stop=decode_stop(choice.get("finish_reason"),
                                                            has_calls),
                      usage=decode_usage(body.get("usage")))


# ---- encoding (neutral -> OpenAI wire) ----------------------------------------------------


def _image_url(part: n.Image) -> dict[str, Any]:
    if part.data is None:
        return {"type": "image_url", "image_url": {"url": part.url or ""}}
    url = f"data:{part.media_type or 'image/png'};base64,{part.data}"
    return {"type": "image_url", "image_url": {"url": url}}


def encode_part(part: n.Part, notes: n.Notes) -> dict[str, Any] | None:
    """A user-side part as an OpenAI content part (None where it cannot be carried)."""
    if isinstance(part, n.Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, n.Image):
        return _image_url(part)
    if isinstance(part, n.Document):
        if part.text is not None:
            head = f"{part.title}\n\n" if part.title else ""
            return {"type": "text", "text": head + part.text}
        if part.data is not None:
            return {"type": "file", "file": {
                "filename": part.title or "document.pdf",
                "file_data": f"data:{part.media_type or 'application/pdf'};base64,{part.data}"}}
        notes.add("documents by URL cannot be sent to OpenAI; dropped")
        return None
    if isinstance(part, n.Thinking | n.RedactedThinking):
        notes.add("thinking blocks in the history cannot be sent to OpenAI; dropped")
        return None
    if isinstance(part, n.Opaque):
        notes.add(f"{part.protocol} block {part.raw.get('type')} has no OpenAI equivalent; "
                  "dropped")
        return None
    notes.add(f"{type(part).__name__} out of place in a user turn; dropped")
    return None


def _collapse(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if all(p["type"] == "text" for p in parts):
        return "\n\n".join(p["text"] for p in parts)
    return parts


def _tool_message(result: n.ToolResult, notes: n.Notes,
                  images: list[dict[str, Any]]) -> dict[str, Any]:
    texts: list[str] = []
    for part in result.content:
        if isinstance(part, n.Image):
            images.append(_image_url(part))
            texts.append("(image attached in the next user message)")
        else:
            encoded = encode_part(part, notes)
            if encoded and encoded["type"] == "text":
                texts.append(encoded["text"])
            elif encoded:
                notes.add("files in tool results cannot be sent to OpenAI; dropped")
    text = "\n".join(texts)
    if result.is_error:
        text = f"[tool error] {text}"
    return {"role": "tool", "tool_call_id": result.call_id, "content": text}


def _encode_user(message: n.Message, notes: n.Notes) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, n.ToolResult):
            out.append(_tool_message(part, notes, images))
    rest = [p for p in (encode_part(part, notes) for part in message.parts
                        if not isinstance(part, n.ToolResult)) if p]
    if images:
        rest = [{"type": "text", "text": "Images returned by the tool calls above:"},
                *images, *rest]
    if rest:
        out.append({"role": "user", "content": _collapse(rest)})
    return out


def _encode_assistant(message: n.Message, notes: n.Notes) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, n.Text):
            texts.append(part.text)
        elif isinstance(part, n.ToolCall):
            calls.append({"id": part.id, "type": "function",
                          "function": {"name": part.name, "arguments": part.arguments or "{}"}})
        else:
            encode_part(part, notes)
    out: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        out["tool_calls"] = calls
    elif out["content"] is None:
        out["content"] = ""
    return out


def encode_messages(messages: list[n.Message], notes: n.Notes) -> list[dict[str, Any]]:
    """Neutral messages as OpenAI messages: system messages stay where they are, tool results
    become role "tool" messages, images from tool results follow in a user message."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            parts = [encode_part(p, notes) for p in message.parts]
            text = "\n\n".join(p["text"] for p in parts if p and p["type"] == "text")
            if text:
                out.append({"role": "system", "content": text})
        elif message.role == "user":
            out.extend(_encode_user(message, notes))
        else:
            out.append(_encode_assistant(message, notes))
    return out


def encode_request(req: n.Request, notes: n.Notes, *, model: str,
                   token_field: TokenField) -> dict[str, Any]:
    """A neutral request as an OpenAI Chat Completions body for `model`."""
    body: dict[str, Any] = {"model": model, "messages": encode_messages(req.messages, notes)}
    if req.max_tokens:
        body[token_field] = req.max_tokens
    if req.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stop:
        if len(req.stop) > MAX_STOP:
            notes.add(f"OpenAI takes at most {MAX_STOP} stop sequences; the rest dropped")
        body["stop"] = req.stop[:MAX_STOP]
    if req.tools:
        body["tools"] = [{"type": "function", "function": {
            "name": t.name, "parameters": t.parameters,
            **({"description": t.description} if t.description else {})}} for t in req.tools]
        if req.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.tool_choice is not None and (req.tools or req.tool_choice.mode == "none"):
        if req.tool_choice.mode == "named":
            body["tool_choice"] = {"type": "function",
                                   "function": {"name": req.tool_choice.name}}
        else:
            body["tool_choice"] = req.tool_choice.mode
    if req.json_schema is not None:
        spec: dict[str, Any] = {"name": req.json_schema.get("name") or "output",
                                "schema": req.json_schema.get("schema") or {}}
        if req.json_schema.get("strict") is not None:
            spec["strict"] = req.json_schema["strict"]
        body["response_format"] = {"type": "json_schema", "json_schema": spec}
    if req.effort:
        body["reasoning_effort"] = req.effort
    return body


def encode_usage(usage: n.Usage) -> dict[str, Any]:
    """Neutral usage in OpenAI's shape (cached tokens counted in `prompt_tokens`)."""
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.prompt_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens}}


def completion_id(raw_id: str) -> str:
    """An id in OpenAI's style for an upstream message id."""
    return raw_id if raw_id.startswith("chatcmpl") else f"chatcmpl-{raw_id}"


def encode_response(resp: n.Response, notes: n.Notes) -> dict[str, Any]:
    """A neutral response as an OpenAI chat completion. Thinking becomes `reasoning_content`
    (the field DeepSeek, vLLM and others use); signatures and redacted thinking are lost."""
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in resp.parts:
        if isinstance(part, n.Text):
            texts.append(part.text)
        elif isinstance(part, n.Thinking):
            reasoning.append(part.text)
            if part.signature:
                notes.add("thinking signature dropped (OpenAI has no field for it)")
        elif isinstance(part, n.ToolCall):
            calls.append({"id": part.id, "type": "function",
                          "function": {"name": part.name, "arguments": part.arguments}})
        elif isinstance(part, n.RedactedThinking):
            notes.add("redacted thinking dropped (OpenAI has no field for it)")
        else:
            notes.add(f"{type(part).__name__} block dropped from the answer")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None,
                               "refusal": None}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = calls
    return {"id": completion_id(resp.id), "object": "chat.completion", "created": int(time.time()),
            "model": resp.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": STOP_TO_WIRE.get(resp.stop or "end", "stop")}],
            "usage": encode_usage(resp.usage)}


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return orjson.dumps(value)
