"""OpenAI Responses API wire shapes <-> the neutral model: requests and complete responses.

Streams are in `responses_stream`. The Responses input is a flat list of items (messages,
function calls, function call outputs, reasoning); the neutral model groups them into turns:
consecutive assistant items (text, calls, reasoning) form one assistant message, consecutive
function call outputs one user message of tool results.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from fusion_tui.protocols import neutral as n
from fusion_tui.protocols.openai_codec import decode_json_format
from fusion_tui.protocols.responses import input_items

# Request keys that carry content the neutral model has no place for; each dropped with a note.
UNCARRIED = ("top_logprobs", "background", "prompt")
_DATA_URL = re.compile(r"^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$", re.S)


def new_id(prefix: str) -> str:
    """An id in OpenAI's style (`resp_...`, `msg_...`, `fc_...`)."""
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


# ---- decoding (Responses wire -> neutral) -------------------------------------------------


def _decode_part(part: dict[str, Any], notes: n.Notes) -> n.Part | None:
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return n.Text(str(part.get("text", "")))
    if kind == "refusal":
        return n.Text(str(part.get("refusal", "")))
    if kind == "input_image":
        url = str(part.get("image_url") or "")
        match = _DATA_URL.match(url)
        if match:
            return n.Image(media_type=match.group(1), data=match.group(2))
        if url:
            return n.Image(url=url)
        notes.add("input_image by file_id cannot be carried; dropped")
        return None
    if kind == "input_file":
        match = _DATA_URL.match(str(part.get("file_data") or ""))
        if match:
            return n.Document(media_type=match.group(1), data=match.group(2),
                              title=part.get("filename"))
        if part.get("file_url"):
            return n.Document(url=str(part["file_url"]), title=part.get("filename"))
        notes.add("input_file by file_id cannot be carried; dropped")
        return None
    notes.add(f"content part {kind} cannot be carried; dropped")
    return None


def _decode_content(content: Any, notes: n.Notes) -> list[n.Part]:
    if isinstance(content, str):
        return [n.Text(content)] if content else []
    if not isinstance(content, list):
        return []
    return [p for p in (_decode_part(x, notes) for x in content if isinstance(x, dict)) if p]


def _output_text(output: Any, notes: n.Notes) -> list[n.Text | n.Image | n.Document]:
    parts = _decode_content(output, notes)
    return [p for p in parts if isinstance(p, n.Text | n.Image | n.Document)]


def _reasoning_text(item: dict[str, Any]) -> str:
    summary = [str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict)]
    content = [str(c.get("text", "")) for c in item.get("content") or [] if isinstance(c, dict)]
    return "\n\n".join(t for t in summary + content if t)


class _Turns:
    """Collects neutral messages, merging neighbours the way the neutral model wants."""

    def __init__(self) -> None:
        self.messages: list[n.Message] = []

    def add(self, role: n.Role, parts: list[n.Part], merge: bool) -> None:
        last = self.messages[-1] if self.messages else None
        if merge and last is not None and last.role == role:
            last.parts.extend(parts)
        else:
            self.messages.append(n.Message(role, parts))

    def add_result(self, result: n.ToolResult) -> None:
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == "user" and all(
                isinstance(p, n.ToolResult) for p in last.parts):
            last.parts.append(result)
        else:
            self.messages.append(n.Message("user", [result]))


def decode_request(body: dict[str, Any], notes: n.Notes) -> n.Request:
    """A Responses request body as a neutral request."""
    req = n.Request(model=str(body.get("model", "")),
                    max_tokens=body.get("max_output_tokens"), stream=bool(body.get("stream")),
                    temperature=body.get("temperature"), top_p=body.get("top_p"),
                    parallel_tool_calls=body.get("parallel_tool_calls"),
                    user=body.get("safety_identifier") or body.get("user"), include_usage=True)
    turns = _Turns()
    if isinstance(body.get("instructions"), str) and body["instructions"]:
        turns.add("system", [n.Text(body["instructions"])], merge=False)
    for item in input_items(body):
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            parts = _decode_content(item.get("content"), notes)
            if role in ("system", "developer"):
                turns.add("system", parts, merge=False)
            elif role == "assistant":
                turns.add("assistant", parts, merge=True)
            else:
                turns.add("user", parts, merge=False)
        elif kind == "function_call":
            turns.add("assistant", [n.ToolCall(str(item.get("call_id", "")),
                                               str(item.get("name", "")),
                                               str(item.get("arguments") or ""))], merge=True)
        elif kind == "function_call_output":
            output = item.get("output")
            content: list[n.Text | n.Image | n.Document] = (
                [n.Text(output)] if isinstance(output, str) else _output_text(output, notes))
            turns.add_result(n.ToolResult(str(item.get("call_id", "")), content))
        elif kind == "reasoning":
            text = _reasoning_text(item)
            if text:
                turns.add("assistant", [n.Thinking(text)], merge=True)
            elif item.get("encrypted_content"):
                notes.add("encrypted reasoning can only go back to OpenAI; dropped")
        else:
            notes.add(f"input item {kind} has no equivalent in the other protocol; dropped")
    req.messages = turns.messages
    for tool in body.get("tools") or []:
        if tool.get("type") == "function":
            req.tools.append(n.Tool(str(tool.get("name", "")), tool.get("description"),
                                    tool.get("parameters") or {"type": "object",
                                                               "properties": {}}))
        else:
            notes.add(f"tool type {tool.get('type')} (a hosted or custom tool) cannot be "
                      "carried; dropped")
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice in ("auto", "none", "required"):
        req.tool_choice = n.ToolChoice(choice)  # type: ignore[arg-type]
    elif isinstance(choice, dict) and choice.get("type") == "function":
        req.tool_choice = n.ToolChoice("named", str(choice.get("name", "")))
    fmt = (body.get("text") or {}).get("format") or {}
    decode_json_format(req, notes, "text.format", fmt.get("type"), fmt)
    for key in UNCARRIED:
        if body.get(key) is not None:
            notes.add(f"{key} has no equivalent in the other protocol; dropped")
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict):
        effort = reasoning.get("effort")
        req.effort = effort if isinstance(effort, str) and effort else None
        for key in sorted(k for k, v in reasoning.items() if k != "effort" and v is not None):
            notes.add(f"reasoning.{key} has no equivalent in the other protocol; dropped")
    elif reasoning is not None:
        notes.add("reasoning has no equivalent in the other protocol; dropped")
    return req


def decode_usage(usage: dict[str, Any] | None) -> n.Usage:
    """Responses usage as neutral usage (`input_tokens` there counts cached tokens)."""
    usage = usage or {}
    total_in = int(usage.get("input_tokens") or 0)
    cached = int((usage.get("input_tokens_details") or {}).get("cached_tokens") or 0)
    reasoning = int((usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0)
    return n.Usage(input_tokens=max(0, total_in - cached),
                   output_tokens=int(usage.get("output_tokens") or 0),
                   cache_read_tokens=cached, reasoning_tokens=reasoning)


def decode_stop(status: str | None, reason: str | None, called: bool) -> n.StopReason:
    """A Responses status (and incomplete reason) as a neutral stop reason."""
    if status == "incomplete":
        return "refusal" if reason == "content_filter" else "length"
    return "tool_calls" if called else "end"


def decode_item(item: dict[str, Any], notes: n.Notes) -> list[n.Part]:
    """One output item as neutral parts."""
    kind = item.get("type")
    if kind == "message":
        return _decode_content(item.get("content"), notes)
    if kind == "function_call":
        return [n.ToolCall(str(item.get("call_id", "")), str(item.get("name", "")),
                           str(item.get("arguments") or ""))]
    if kind == "reasoning":
        text = _reasoning_text(item)
        return [n.Thinking(text)] if text else []
    notes.add(f"output item {kind} has no equivalent in the other protocol; dropped")
    return []


def decode_response(body: dict[str, Any], notes: n.Notes) -> n.Response:
    """A complete Responses answer as a neutral response."""
    parts: list[n.Part] = []
    for item in body.get("output") or []:
        if isinstance(item, dict):
            parts.extend(decode_item(item, notes))
    called = any(isinstance(p, n.ToolCall) for p in parts)
    reason = (body.get("incomplete_details") or {}).get("reason")
    return n.Response(id=str(body.get("id", "")), model=str(body.get("model", "")),
                      parts=parts, stop=decode_stop(body.get("status"), reason, called),
                      usage=decode_usage(body.get("usage")))


# ---- encoding (neutral -> Responses wire) -------------------------------------------------


def _image(part: n.Image) -> dict[str, Any]:
    if part.data is None:
        return {"type": "input_image", "image_url": part.url or "", "detail": "auto"}
    return {"type": "input_image", "detail": "auto",
            "image_url": f"data:{part.media_type or 'image/png'};base64,{part.data}"}


def _user_part(part: n.Part, notes: n.Notes) -> dict[str, Any] | None:
    if isinstance(part, n.Text):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, n.Image):
        return _image(part)
    if isinstance(part, n.Document):
        if part.text is not None:
            head = f"{part.title}\n\n" if part.title else ""
            return {"type": "input_text", "text": head + part.text}
        if part.data is not None:
            return {"type": "input_file", "filename": part.title or "document.pdf",
                    "file_data": f"data:{part.media_type or 'application/pdf'};base64,"
                                 f"{part.data}"}
        return {"type": "input_file", "file_url": part.url or ""}
    if isinstance(part, n.Thinking | n.RedactedThinking):
        notes.add("thinking blocks in the history cannot be sent to the Responses API; dropped")
        return None
    if isinstance(part, n.Opaque):
        notes.add(f"{part.protocol} block {part.raw.get('type')} has no Responses equivalent; "
                  "dropped")
        return None
    notes.add(f"{type(part).__name__} out of place in a user turn; dropped")
    return None


def _result_item(result: n.ToolResult, notes: n.Notes,
                 images: list[dict[str, Any]]) -> dict[str, Any]:
    texts: list[str] = []
    for part in result.content:
        if isinstance(part, n.Image):
            images.append(_image(part))
            texts.append("(image attached in the next user message)")
        elif isinstance(part, n.Text):
            texts.append(part.text)
        elif isinstance(part, n.Document) and part.text is not None:
            texts.append(part.text)
        else:
            notes.add("files in tool results cannot be sent to the Responses API; dropped")
    text = "\n".join(texts)
    if result.is_error:
        text = f"[tool error] {text}"
    return {"type": "function_call_output", "call_id": result.call_id, "output": text}


def _assistant_items(message: n.Message, notes: n.Notes) -> list[dict[str, Any]]:
    """An assistant turn as output-shaped items: text runs become messages, calls
    function_call items, in order."""
    items: list[dict[str, Any]] = []
    texts: list[str] = []
    for part in [*message.parts, None]:
        if (part is None or isinstance(part, n.ToolCall)) and texts:
            items.append({"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "".join(texts), "annotations": []}]})
            texts = []
        if isinstance(part, n.Text):
            texts.append(part.text)
        elif isinstance(part, n.ToolCall):
            items.append({"type": "function_call", "call_id": part.id, "name": part.name,
                          "arguments": part.arguments or "{}"})
        elif part is not None:
            _user_part(part, notes)
    return items


def encode_input(messages: list[n.Message], notes: n.Notes) -> tuple[str | None,
                                                                      list[dict[str, Any]]]:
    """Neutral messages as (instructions, input items): leading system messages become the
    instructions, later ones system messages in place."""
    instructions: list[str] = []
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            text = "\n\n".join(p.text for p in message.parts if isinstance(p, n.Text))
            if not text:
                continue
            if not items:
                instructions.append(text)
            else:
                items.append({"type": "message", "role": "system", "content": text})
        elif message.role == "user":
            images: list[dict[str, Any]] = []
            for part in message.parts:
                if isinstance(part, n.ToolResult):
                    items.append(_result_item(part, notes, images))
            rest = [p for p in (_user_part(p, notes) for p in message.parts
                                if not isinstance(p, n.ToolResult)) if p]
            if images:
                rest = [{"type": "input_text", "text": "Images returned by the tool calls "
                                                       "above:"}, *images, *rest]
            if rest:
                items.append({"type": "message", "role": "user", "content": rest})
        else:
            items.extend(_assistant_items(message, notes))
    return ("\n\n".join(instructions) or None), items


def encode_request(req: n.Request, notes: n.Notes, *, model: str) -> dict[str, Any]:
    """A neutral request as a Responses body for `model` (store: false, nothing kept)."""
    instructions, items = encode_input(req.messages, notes)
    body: dict[str, Any] = {"model": model, "input": items, "store": False}
    if instructions:
        body["instructions"] = instructions
    if req.max_tokens:
        body["max_output_tokens"] = req.max_tokens
    if req.stream:
        body["stream"] = True
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stop:
        notes.add("the Responses API has no stop sequences; dropped")
    if req.tools:
        # strict defaults to true in the Responses API, which refuses most real schemas.
        body["tools"] = [{"type": "function", "name": t.name, "parameters": t.parameters,
                          "strict": False,
                          **({"description": t.description} if t.description else {})}
                         for t in req.tools]
        if req.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.tool_choice is not None and (req.tools or req.tool_choice.mode == "none"):
        if req.tool_choice.mode == "named":
            body["tool_choice"] = {"type": "function", "name": req.tool_choice.name}
        else:
            body["tool_choice"] = req.tool_choice.mode
    if req.json_schema is not None:
        fmt: dict[str, Any] = {"type": "json_schema",
                               "name": req.json_schema.get("name") or "output",
                               "schema": req.json_schema.get("schema") or {}}
        if req.json_schema.get("strict") is not None:
            fmt["strict"] = req.json_schema["strict"]
        body["text"] = {"format": fmt}
    if req.effort:
        body["reasoning"] = {"effort": req.effort}
    if req.user:
        body["safety_identifier"] = req.user
    return body


def encode_usage(usage: n.Usage) -> dict[str, Any]:
    """Neutral usage in the Responses shape (cached tokens counted in `input_tokens`)."""
    return {"input_tokens": usage.prompt_tokens,
            "input_tokens_details": {"cached_tokens": usage.cache_read_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.prompt_tokens + usage.output_tokens}


def response_id(raw_id: str) -> str:
    """A `resp_` id for an upstream message id."""
    return raw_id if raw_id.startswith("resp_") else f"resp_{raw_id or uuid.uuid4().hex}"


def message_item(text: str, item_id: str | None = None, status: str = "completed"
                 ) -> dict[str, Any]:
    """An assistant message output item."""
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == \
        "completed" else []
    return {"type": "message", "id": item_id or new_id("msg"), "status": status,
            "role": "assistant", "content": content}


def call_item(call: n.ToolCall, item_id: str | None = None, status: str = "completed"
              ) -> dict[str, Any]:
    """A function_call output item."""
    return {"type": "function_call", "id": item_id or new_id("fc"), "call_id": call.id,
            "name": call.name, "arguments": call.arguments, "status": status}


def reasoning_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    """A reasoning output item carrying the thinking text as its summary."""
    summary = [{"type": "summary_text", "text": text}] if text else []
    return {"type": "reasoning", "id": item_id or new_id("rs"), "summary": summary}


def response_object(resp_id: str, model: str, output: list[dict[str, Any]], status: str,
                    usage: n.Usage | None, stop: n.StopReason | None = None,
                    created_at: int | None = None) -> dict[str, Any]:
    """A Responses `response` object."""
    incomplete = None
    if status == "incomplete":
        incomplete = {"reason": "content_filter" if stop == "refusal" else "max_output_tokens"}
    return {"id": resp_id, "object": "response", "created_at": created_at or int(time.time()),
            "status": status, "error": None, "incomplete_details": incomplete,
            "model": model, "output": output, "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": [], "store": False,
            "usage": encode_usage(usage) if usage is not None else None}


def status_for(stop: n.StopReason | None) -> str:
    """The Responses status for a neutral stop reason."""
    return "incomplete" if stop in ("length", "refusal") else "completed"


def encode_response(resp: n.Response, notes: n.Notes) -> dict[str, Any]:
    """A neutral response as a Responses answer. Thinking becomes a reasoning item with the
    text as its summary; signatures and redacted thinking are lost."""
    output: list[dict[str, Any]] = []
    texts: list[str] = []

    def flush() -> None:
        if texts:
            output.append(message_item("".join(texts)))
            texts.clear()

    for part in resp.parts:
        if isinstance(part, n.Text):
            texts.append(part.text)
        elif isinstance(part, n.ToolCall):
            flush()
            output.append(call_item(part))
        elif isinstance(part, n.Thinking):
            flush()
            output.append(reasoning_item(part.text))
            if part.signature:
                notes.add("thinking signature dropped (the Responses API has no field for it)")
        elif isinstance(part, n.RedactedThinking):
            notes.add("redacted thinking dropped (the Responses API has no field for it)")
        else:
            notes.add(f"{type(part).__name__} block dropped from the answer")
    flush()
    return response_object(response_id(resp.id), resp.model, output, status_for(resp.stop),
                           resp.usage, resp.stop)
