"""Anthropic Messages wire shapes <-> the neutral model: requests, responses and streams (the
Anthropic codec of `translation.CODECS`; `StreamDecoder` and `StreamEncoder` are its stream
half)."""

from __future__ import annotations

from typing import Any

import orjson

from fusion_tui.protocols import neutral as n
from fusion_tui.protocols.anthropic import error_body, error_type_for
from fusion_tui.protocols.openai import parse_arguments
from fusion_tui.protocols.sse import DONE, SSEEvent, encode_sse, event_object

STOP_FROM_WIRE: dict[str, n.StopReason] = {
    "end_turn": "end", "max_tokens": "length", "tool_use": "tool_calls",
    "stop_sequence": "stop_sequence", "refusal": "refusal", "pause_turn": "pause",
    "model_context_window_exceeded": "length",
}
STOP_TO_WIRE: dict[str, str] = {
    "end": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
    "stop_sequence": "stop_sequence", "refusal": "refusal", "pause": "pause_turn",
}
STATUS_FOR_TYPE = {
    "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
    "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
    "rate_limit_error": 429, "api_error": 500, "timeout_error": 504, "overloaded_error": 529,
}
# Mid-conversation system messages reach an Anthropic upstream as user text in this wrapper,
# which Claude models are trained to read as harness instructions.
SYSTEM_WRAP = "<system-reminder>\n{}\n</system-reminder>"


# ---- decoding (Anthropic wire -> neutral) -------------------------------------------------


def decode_block(block: Any, notes: n.Notes | None = None) -> n.Part | None:
    """One content block as a neutral part (None for a block that is not an object). Blocks
    inside a tool result that a tool result cannot carry are dropped, said in `notes`."""
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind == "text":
        return n.Text(str(block.get("text", "")))
    if kind == "image":
        src = block.get("source") or {}
        if src.get("type") == "base64":
            return n.Image(media_type=src.get("media_type"), data=src.get("data"))
        if src.get("type") == "url":
            return n.Image(url=src.get("url"))
    elif kind == "document":
        src = block.get("source") or {}
        title = block.get("title")
        if src.get("type") == "base64":
            return n.Document(media_type=src.get("media_type"), data=src.get("data"),
                              title=title)
        if src.get("type") == "url":
            return n.Document(url=src.get("url"), title=title)
        if src.get("type") == "text":
            return n.Document(media_type=src.get("media_type", "text/plain"),
                              text=str(src.get("data", "")), title=title)
        if src.get("type") == "content":
            return n.Document(text=_plain(src.get("content")), title=title)
    elif kind == "tool_use":
        return n.ToolCall(str(block.get("id", "")), str(block.get("name", "")),
                          orjson.dumps(block.get("input") or {}).decode())
    elif kind == "tool_result":
        content = block.get("content")
        parts: list[n.Text | n.Image | n.Document] = []
        if isinstance(content, str):
            parts.append(n.Text(content))
        elif isinstance(content, list):
            for inner in content:
                part = decode_block(inner)
                if isinstance(part, n.Text | n.Image | n.Document):
                    parts.append(part)
                elif part is not None and notes is not None:
                    notes.add(f"{inner.get('type')} block inside a tool_result cannot be "
                              "carried; dropped")
        return n.ToolResult(str(block.get("tool_use_id", "")), parts,
                            bool(block.get("is_error")))
    elif kind == "thinking":
        return n.Thinking(str(block.get("thinking", "")), block.get("signature") or None)
    elif kind == "redacted_thinking":
        return n.RedactedThinking(str(block.get("data", "")))
    return n.Opaque("anthropic", block)


def _plain(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [decode_block(b) for b in content or []]
    return "\n".join(p.text for p in parts if isinstance(p, n.Text))


def decode_content(content: Any, notes: n.Notes | None = None) -> list[n.Part]:
    """A message's content (a string or a list of blocks) as neutral parts."""
    if isinstance(content, str):
        return [n.Text(content)] if content else []
    if not isinstance(content, list):
        return []
    return [p for p in (decode_block(b, notes) for b in content) if p is not None]


def decode_request(body: dict[str, Any], notes: n.Notes) -> n.Request:
    """An Anthropic Messages request body as a neutral request."""
    req = n.Request(model=str(body.get("model", "")), max_tokens=body.get("max_tokens"),
                    stream=bool(body.get("stream")), temperature=body.get("temperature"),
                    top_p=body.get("top_p"), stop=list(body.get("stop_sequences") or []),
                    include_usage=True)
    system = decode_content(body.get("system"))
    if system:
        req.messages.append(n.Message("system", system))
    for message in body.get("messages") or []:
        parts = decode_content(message.get("content"), notes)
        if parts or message.get("role") != "system":
            req.messages.append(n.Message(message["role"], parts))
    for tool in body.get("tools") or []:
        if tool.get("type") not in (None, "custom"):
            notes.add(f"tool {tool.get('name') or tool.get('type')} ({tool.get('type')}) "
                      "is an Anthropic server tool; dropped")
            continue
        req.tools.append(n.Tool(str(tool.get("name", "")), tool.get("description"),
                                tool.get("input_schema") or {"type": "object"}))
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        mode = {"auto": "auto", "any": "required", "tool": "named", "none": "none"}.get(
            str(choice.get("type")), "auto")
        req.tool_choice = n.ToolChoice(mode, choice.get("name"))  # type: ignore[arg-type]
        if choice.get("disable_parallel_tool_use"):
            req.parallel_tool_calls = False
    if body.get("top_k") is not None:
        notes.add("top_k has no OpenAI equivalent; dropped")
    fmt = (body.get("output_config") or {}).get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        req.json_schema = {"name": "output", "schema": fmt.get("schema") or {}}
    effort = (body.get("output_config") or {}).get("effort")
    req.effort = effort if isinstance(effort, str) and effort else None
    user = (body.get("metadata") or {}).get("user_id")
    req.user = user if isinstance(user, str) else None
    return req


def decode_usage(usage: dict[str, Any]) -> n.Usage:
    """Anthropic usage as neutral usage."""
    return n.Usage(input_tokens=int(usage.get("input_tokens") or 0),
                   output_tokens=int(usage.get("output_tokens") or 0),
                   cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
                   cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0))


def decode_response(message: dict[str, Any]) -> n.Response:
    """A complete Anthropic message as a neutral response."""
    return n.Response(id=str(message.get("id", "")), model=str(message.get("model", "")),
                      parts=decode_content(message.get("content")),
                      stop=STOP_FROM_WIRE.get(str(message.get("stop_reason")), "end"),
                      usage=decode_usage(message.get("usage") or {}),
                      stop_sequence=message.get("stop_sequence"))


# ---- encoding (neutral -> Anthropic wire) -------------------------------------------------


def encode_part(part: n.Part, notes: n.Notes, answer: bool = False) -> dict[str, Any] | None:
    """A neutral part as an Anthropic content block (None where it cannot be carried).

    In an `answer` (a response to a client) reasoning without a signature is still shown as
    a thinking block with an empty signature; in a request it cannot be sent back."""
    if isinstance(part, n.Text):
        return {"type": "text", "text": part.text} if part.text else None
    if isinstance(part, n.Image):
        if part.data is not None:
            return {"type": "image", "source": {"type": "base64", "data": part.data,
                                                "media_type": part.media_type or "image/png"}}
        return {"type": "image", "source": {"type": "url", "url": part.url or ""}}
    if isinstance(part, n.Document):
        return _encode_document(part, notes)
    if isinstance(part, n.ToolCall):
        return {"type": "tool_use", "id": part.id, "name": part.name,
                "input": parse_arguments(part.arguments)}
    if isinstance(part, n.ToolResult):
        inner = [b for b in (encode_part(p, notes) for p in part.content) if b]
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.call_id,
                                 "content": inner}
        if part.is_error:
            block["is_error"] = True
        return block
    if isinstance(part, n.Thinking):
        if part.signature or answer:
            return {"type": "thinking", "thinking": part.text,
                    "signature": part.signature or ""}
        notes.add("reasoning without an Anthropic signature cannot be sent back; dropped")
        return None
    if isinstance(part, n.RedactedThinking):
        return {"type": "redacted_thinking", "data": part.data}
    if part.protocol == "anthropic":
        return part.raw
    notes.add(f"{part.protocol} content part {part.raw.get('type')} dropped")
    return None


def _encode_document(part: n.Document, notes: n.Notes) -> dict[str, Any] | None:
    block: dict[str, Any] = {"type": "document"}
    if part.data is not None and (part.media_type or "").startswith("application/pdf"):
        block["source"] = {"type": "base64", "media_type": "application/pdf", "data": part.data}
    elif part.text is not None:
        block["source"] = {"type": "text", "media_type": "text/plain", "data": part.text}
    elif part.url is not None:
        block["source"] = {"type": "url", "url": part.url}
    else:
        notes.add(f"document of type {part.media_type} is not supported by Anthropic; dropped")
        return None
    if part.title:
        block["title"] = part.title
    return block


def _system_text(parts: list[n.Part], notes: n.Notes) -> str:
    texts: list[str] = []
    for part in parts:
        if isinstance(part, n.Text):
            texts.append(part.text)
        elif isinstance(part, n.Document) and part.text:
            texts.append(part.text)
        else:
            notes.add("non-text content in a system message dropped")
    return "\n\n".join(t for t in texts if t)


def encode_messages(messages: list[n.Message], notes: n.Notes
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(top-level system blocks, messages). Leading system messages become the system
    prompt; later ones become user text in `SYSTEM_WRAP`. Consecutive turns of one role are
    merged, tool results first, as the API requires."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    leading = True
    for message in messages:
        if message.role == "system":
            text = _system_text(message.parts, notes)
            if leading:
                if text:
                    system.append({"type": "text", "text": text})
                continue
            blocks: list[dict[str, Any]] = (
                [{"type": "text", "text": SYSTEM_WRAP.format(text)}] if text else [])
            role = "user"
        else:
            leading = False
            role = message.role
            blocks = [b for b in (encode_part(p, notes) for p in message.parts) if b]
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for turn in out:
        if turn["role"] == "user":
            content = turn["content"]
            turn["content"] = ([b for b in content if b["type"] == "tool_result"]
                               + [b for b in content if b["type"] != "tool_result"])
        if not turn["content"]:
            turn["content"] = [{"type": "text", "text": "(empty)"}]
    return system, out


def encode_request(req: n.Request, notes: n.Notes, *, model: str,
                   default_max_tokens: int) -> dict[str, Any]:
    """A neutral request as an Anthropic Messages body for `model`."""
    system, messages = encode_messages(req.messages, notes)
    body: dict[str, Any] = {"model": model, "messages": messages,
                            "max_tokens": req.max_tokens or default_max_tokens}
    if system:
        body["system"] = system
    if req.stream:
        body["stream"] = True
    if req.temperature is not None:
        if req.temperature > 1:
            notes.add(f"temperature {req.temperature:g} clamped to Anthropic's maximum 1")
        body["temperature"] = min(float(req.temperature), 1.0)
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stop:
        body["stop_sequences"] = req.stop
    if req.tools:
        body["tools"] = [{"name": t.name, "input_schema": t.parameters,
                          **({"description": t.description} if t.description else {})}
                         for t in req.tools]
    choice: dict[str, Any] | None = None
    if req.tool_choice is not None:
        kind = {"auto": "auto", "none": "none", "required": "any", "named": "tool"}
        choice = {"type": kind[req.tool_choice.mode]}
        if req.tool_choice.mode == "named":
            choice["name"] = req.tool_choice.name
    if req.parallel_tool_calls is False and req.tools:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice is not None and (req.tools or choice["type"] == "none"):
        body["tool_choice"] = choice
    if req.json_schema is not None:
        body["output_config"] = {"format": {"type": "json_schema",
                                            "schema": req.json_schema.get("schema") or {}}}
    if req.effort:
        body["output_config"] = {**body.get("output_config", {}), "effort": req.effort}
    if req.user:
        body["metadata"] = {"user_id": req.user}
    return body


def encode_usage(usage: n.Usage) -> dict[str, Any]:
    """Neutral usage in Anthropic's shape."""
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens,
            "cache_creation_input_tokens": usage.cache_write_tokens}


def encode_response(resp: n.Response, notes: n.Notes) -> dict[str, Any]:
    """A neutral response as an Anthropic message."""
    content = [b for b in (encode_part(p, notes, answer=True) for p in resp.parts) if b]
    msg_id = resp.id if resp.id.startswith("msg_") else f"msg_{resp.id}"
    return {"id": msg_id, "type": "message", "role": "assistant", "model": resp.model,
            "content": content, "stop_reason": STOP_TO_WIRE.get(resp.stop or "end", "end_turn"),
            "stop_sequence": resp.stop_sequence, "usage": encode_usage(resp.usage)}


def error_event(status: int, message: str) -> bytes:
    """An `event: error` frame."""
    return encode_sse("error", error_body(status, message, error_type_for(status)))


# ---- streams ------------------------------------------------------------------------------


class StreamDecoder:
    """Anthropic SSE events -> neutral stream events (the stream half of this codec)."""

    def __init__(self, notes: n.Notes | None = None) -> None:
        self.usage = n.Usage()
        self.stop: n.StopReason | None = None
        self.stop_sequence: str | None = None

    def feed(self, event: SSEEvent) -> list[n.StreamEvent]:
        """The neutral events one Anthropic event stands for. Events without data and a
        stray `[DONE]` are skipped; data that is not a JSON object is a MalformedEvent."""
        if not event.data or event.data == DONE:
            return []
        payload = event_object(event)
        return self._event(event.event or str(payload.get("type", "")), payload)

    def end(self) -> list[n.StreamEvent]:
        """The bytes ended: nothing more (a stream cut before `message_stop` stays cut)."""
        return []

    def _event(self, name: str, data: dict[str, Any]) -> list[n.StreamEvent]:
        if name == "message_start":
            message = data.get("message") or {}
            self.usage = decode_usage(message.get("usage") or {})
            return [n.StreamStart(str(message.get("id", "")), str(message.get("model", "")),
                                  self.usage)]
        if name == "content_block_start":
            part = decode_block(data.get("content_block") or {})
            if isinstance(part, n.ToolCall):
                part.arguments = ""
            return [n.PartStart(int(data.get("index", 0)), part or n.Text(""))]
        if name == "content_block_delta":
            return self._delta(int(data.get("index", 0)), data.get("delta") or {})
        if name == "content_block_stop":
            return [n.PartStop(int(data.get("index", 0)))]
        if name == "message_delta":
            delta = data.get("delta") or {}
            if delta.get("stop_reason"):
                self.stop = STOP_FROM_WIRE.get(delta["stop_reason"], "end")
            self.stop_sequence = delta.get("stop_sequence") or self.stop_sequence
            usage = data.get("usage") or {}
            merged = {**encode_usage(self.usage), **{k: v for k, v in usage.items()
                                                     if v is not None}}
            self.usage = decode_usage(merged)
            return []
        if name == "message_stop":
            return [n.StreamStop(self.stop, self.usage, self.stop_sequence)]
        if name == "error":
            error = data.get("error") or {}
            return [n.StreamFailed(STATUS_FOR_TYPE.get(str(error.get("type")), 500),
                                   str(error.get("message", "upstream stream error")))]
        return []

    @staticmethod
    def _delta(index: int, delta: dict[str, Any]) -> list[n.StreamEvent]:
        kind = delta.get("type")
        if kind == "text_delta":
            return [n.PartDelta(index, "text", str(delta.get("text", "")))]
        if kind == "thinking_delta":
            return [n.PartDelta(index, "thinking", str(delta.get("thinking", "")))]
        if kind == "signature_delta":
            return [n.PartDelta(index, "signature", str(delta.get("signature", "")))]
        if kind == "input_json_delta":
            return [n.PartDelta(index, "arguments", str(delta.get("partial_json", "")))]
        return []


_DELTA_WIRE = {"text": ("text_delta", "text"), "thinking": ("thinking_delta", "thinking"),
               "signature": ("signature_delta", "signature"),
               "arguments": ("input_json_delta", "partial_json")}


class StreamEncoder:
    """Neutral stream events -> Anthropic SSE bytes."""

    def __init__(self, notes: n.Notes) -> None:
        self.notes = notes

    def encode(self, event: n.StreamEvent) -> bytes:
        """The SSE frames for one neutral event (may be empty)."""
        if isinstance(event, n.StreamStart):
            msg_id = event.id if event.id.startswith("msg_") else f"msg_{event.id}"
            return encode_sse("message_start", {"type": "message_start", "message": {
                "id": msg_id, "type": "message", "role": "assistant", "model": event.model,
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": encode_usage(event.usage)}})
        if isinstance(event, n.PartStart):
            block: dict[str, Any] | None
            if isinstance(event.part, n.Thinking):
                block = {"type": "thinking", "thinking": "", "signature": ""}
            elif isinstance(event.part, n.ToolCall):
                block = {"type": "tool_use", "id": event.part.id, "name": event.part.name,
                         "input": {}}
            elif isinstance(event.part, n.Text):
                block = {"type": "text", "text": ""}
            else:
                block = encode_part(event.part, self.notes) or {"type": "text", "text": ""}
            return encode_sse("content_block_start", {"type": "content_block_start",
                                                      "index": event.index,
                                                      "content_block": block})
        if isinstance(event, n.PartDelta):
            wire, key = _DELTA_WIRE[event.kind]
            return encode_sse("content_block_delta", {
                "type": "content_block_delta", "index": event.index,
                "delta": {"type": wire, key: event.value}})
        if isinstance(event, n.PartStop):
            return encode_sse("content_block_stop", {"type": "content_block_stop",
                                                     "index": event.index})
        if isinstance(event, n.StreamStop):
            usage = encode_usage(event.usage)
            return encode_sse("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": STOP_TO_WIRE.get(event.stop or "end", "end_turn"),
                          "stop_sequence": event.stop_sequence},
                "usage": usage}) + encode_sse("message_stop", {"type": "message_stop"})
        return error_event(event.status, event.message)
