"""OpenAI Chat Completions streams <-> neutral stream events (the stream half of the Chat
Completions codec in `translation.CODECS`).

OpenAI chunks carry no block boundaries: text, reasoning and tool calls are deltas on one
choice. The decoder opens and closes neutral parts as the kind of delta changes (one part at a
time, so Anthropic's strictly nested blocks can be written from it); the encoder numbers tool
calls from 0 in the order they start.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from fusion_tui.protocols import neutral as n
from fusion_tui.protocols.openai import error_body, error_type_for, status_for_error
from fusion_tui.protocols.openai_codec import (
    STOP_TO_WIRE,
    completion_id,
    decode_stop,
    decode_usage,
    encode_usage,
)
from fusion_tui.protocols.sse import MalformedEvent, SSEEvent

DONE = b"data: [DONE]\n\n"


def data_frame(payload: Any) -> bytes:
    """One `data:` frame of compact JSON."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def error_frame(status: int, message: str) -> bytes:
    """The mid-stream error chunk: `data: {"error": {...}}` (no [DONE] follows)."""
    return data_frame(error_body(status, message, error_type_for(status)))


class StreamDecoder:
    """OpenAI SSE events -> neutral stream events (the stream half of the Chat Completions
    codec). Call `end()` when the bytes end."""

    def __init__(self, notes: n.Notes) -> None:
        self.notes = notes
        self.started = False
        self.finished = False
        self.next_index = 0
        self.open: tuple[str, int] | None = None  # ("text"|"thinking"|"tool", neutral index)
        self.tools: dict[int, int] = {}  # OpenAI tool_call index -> neutral index
        self.finish_reason: str | None = None
        self.usage = n.Usage()

    def feed(self, event: SSEEvent) -> list[n.StreamEvent]:
        """The neutral events for one event (only its `data:` payload counts)."""
        data = event.data
        if self.finished:
            return []
        if data.strip() == "[DONE]":
            return self._finish()
        if not data.strip():
            return []
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise MalformedEvent(f"chunk data is not JSON: {data[:80]!r}") from exc
        if not isinstance(chunk, dict):
            raise MalformedEvent(f"chunk data is not a JSON object: {data[:80]!r}")
        if isinstance(chunk.get("error"), dict):
            self.finished = True
            error = chunk["error"]
            return [n.StreamFailed(status_for_error(error),
                                   str(error.get("message", "upstream stream error")))]
        out: list[n.StreamEvent] = []
        if not self.started:
            self.started = True
            out.append(n.StreamStart(str(chunk.get("id") or uuid.uuid4().hex),
                                     str(chunk.get("model", ""))))
        if isinstance(chunk.get("usage"), dict):
            self.usage = decode_usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            if int(choice.get("index", 0)) != 0:
                continue
            out.extend(self._delta(choice.get("delta") or {}))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return out

    def end(self) -> list[n.StreamEvent]:
        """The bytes ended. Finish only if the upstream said why it stopped; a stream cut
        before any finish_reason stays unfinished (the relay reports the cut)."""
        if self.finished or self.finish_reason is None:
            return []
        return self._finish()

    def _open(self, kind: str, part: n.Part) -> list[n.StreamEvent]:
        out = self._close()
        index = self.next_index
        self.next_index += 1
        self.open = (kind, index)
        out.append(n.PartStart(index, part))
        return out

    def _close(self) -> list[n.StreamEvent]:
        if self.open is None:
            return []
        index = self.open[1]
        self.open = None
        return [n.PartStop(index)]

    def _delta(self, delta: dict[str, Any]) -> list[n.StreamEvent]:
        out: list[n.StreamEvent] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            if self.open is None or self.open[0] != "thinking":
                out.extend(self._open("thinking", n.Thinking("")))
            out.append(n.PartDelta(self.next_index - 1, "thinking", reasoning))
        text = delta.get("content") or delta.get("refusal")
        if isinstance(text, str) and text:
            if self.open is None or self.open[0] != "text":
                out.extend(self._open("text", n.Text("")))
            out.append(n.PartDelta(self.next_index - 1, "text", text))
        for call in delta.get("tool_calls") or []:
            position = int(call.get("index", len(self.tools)))
            fn = call.get("function") or {}
            if position not in self.tools:
                call_id = str(call.get("id") or f"call_{uuid.uuid4().hex[:24]}")
                out.extend(self._open("tool", n.ToolCall(call_id, str(fn.get("name", "")))))
                self.tools[position] = self.next_index - 1
            index = self.tools[position]
            if self.open is None or self.open[1] != index:
                self.notes.add("tool-call arguments arrived interleaved; a late piece went to "
                               "an already closed call")
            if fn.get("arguments"):
                out.append(n.PartDelta(index, "arguments", str(fn["arguments"])))
        return out

    def _finish(self) -> list[n.StreamEvent]:
        self.finished = True
        out = self._close()
        if not self.started:
            out.insert(0, n.StreamStart(uuid.uuid4().hex, ""))
        stop = decode_stop(self.finish_reason, bool(self.tools))
        out.append(n.StreamStop(stop, self.usage))
        return out


class StreamEncoder:
    """Neutral stream events -> OpenAI chunk bytes (`[DONE]` after a normal finish only)."""

    def __init__(self, notes: n.Notes, include_usage: bool, model: str = "") -> None:
        self.notes = notes
        self.include_usage = include_usage
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.model = model
        self.created = int(time.time())
        self.tool_positions: dict[int, int] = {}  # neutral index -> OpenAI tool_call index

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        return data_frame({"id": self.id, "object": "chat.completion.chunk",
                           "created": self.created, "model": self.model,
                           "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                        "finish_reason": finish}]})

    def encode(self, event: n.StreamEvent) -> bytes:
        """The bytes for one neutral event (may be empty)."""
        if isinstance(event, n.StreamStart):
            self.id = completion_id(event.id)
            self.model = event.model or self.model
            return self._chunk({"role": "assistant", "content": ""})
        if isinstance(event, n.PartStart):
            part = event.part
            if isinstance(part, n.ToolCall):
                position = len(self.tool_positions)
                self.tool_positions[event.index] = position
                return self._chunk({"tool_calls": [{
                    "index": position, "id": part.id, "type": "function",
                    "function": {"name": part.name, "arguments": ""}}]})
            if isinstance(part, n.RedactedThinking):
                self.notes.add("redacted thinking dropped (OpenAI has no field for it)")
            elif isinstance(part, n.Opaque):
                self.notes.add(f"{part.protocol} block {part.raw.get('type')} dropped from "
                               "the stream")
            return b""
        if isinstance(event, n.PartDelta):
            if event.kind == "text":
                return self._chunk({"content": event.value})
            if event.kind == "thinking":
                return self._chunk({"reasoning_content": event.value})
            if event.kind == "signature":
                self.notes.add("thinking signature dropped (OpenAI has no field for it)")
                return b""
            position = self.tool_positions.get(event.index, 0)
            return self._chunk({"tool_calls": [{"index": position,
                                                "function": {"arguments": event.value}}]})
        if isinstance(event, n.PartStop):
            return b""
        if isinstance(event, n.StreamStop):
            out = self._chunk({}, STOP_TO_WIRE.get(event.stop or "end", "stop"))
            if self.include_usage:
                out += data_frame({"id": self.id, "object": "chat.completion.chunk",
                                   "created": self.created, "model": self.model,
                                   "choices": [], "usage": encode_usage(event.usage)})
            return out + DONE
        return error_frame(event.status, event.message)
