"""OpenAI Responses streams <-> neutral stream events.

Responses streams name every event (`response.output_text.delta`, ...) and number them
(`sequence_number`). Output items arrive one after another, so the decoder opens a neutral part
for each text, reasoning or function-call item as its first piece arrives and closes it at
`response.output_item.done`. The encoder writes the full event sequence the openai SDK and the
Codex CLI expect: created, in_progress, item added, content part added, deltas, the `done`
events, then completed (or incomplete, or failed). These are the stream half of the Responses
codec in `translation.CODECS`. `collect_stream` reads a whole stream into one answer, for an
upstream that streams when the client asked for JSON (the Codex backend).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fusion_tui.protocols import neutral as n
from fusion_tui.protocols.responses import error_code_for, event_frame, status_for_code
from fusion_tui.protocols.responses_codec import (
    call_item,
    decode_stop,
    decode_usage,
    message_item,
    new_id,
    reasoning_item,
    response_id,
    response_object,
    status_for,
)
from fusion_tui.protocols.sse import DONE, SSEEvent, SSEParser, event_object, strict_json_events


class StreamDecoder:
    """Responses SSE events -> neutral stream events (the stream half of the Responses
    codec). Call `end()` when the bytes end."""

    def __init__(self, notes: n.Notes) -> None:
        self.notes = notes
        self.started = False
        self.finished = False
        self.next_index = 0
        self.open: tuple[str, int, int] | None = None  # (kind, output_index, neutral index)
        self.called = False
        self.summary_seen: set[tuple[int, int]] = set()

    def feed(self, event: SSEEvent) -> list[n.StreamEvent]:
        """The neutral events for one event. Events without data and a `[DONE]` sentinel
        are skipped; data that is not a JSON object is a MalformedEvent."""
        if not event.data or event.data == DONE:
            return []
        payload = event_object(event)
        payload.setdefault("type", event.event)
        return self._payload(payload)

    def _payload(self, payload: dict[str, Any]) -> list[n.StreamEvent]:
        if self.finished:
            return []
        kind = str(payload.get("type", ""))
        out: list[n.StreamEvent] = []
        if not self.started and kind != "error":
            self.started = True
            response = payload.get("response") or {}
            out.append(n.StreamStart(str(response.get("id") or uuid.uuid4().hex),
                                     str(response.get("model", ""))))
        position = int(payload.get("output_index") or 0)
        if kind == "response.output_item.added":
            item = payload.get("item") or {}
            if item.get("type") == "function_call":
                self.called = True
                out.extend(self._open("tool", position, n.ToolCall(
                    str(item.get("call_id", "")), str(item.get("name", "")))))
                if item.get("arguments"):
                    out.append(n.PartDelta(self.next_index - 1, "arguments",
                                           str(item["arguments"])))
            elif item.get("type") not in ("message", "reasoning"):
                self.notes.add(f"output item {item.get('type')} has no equivalent in the "
                               "other protocol; dropped")
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            out.extend(self._piece("text", position, n.Text(""), str(payload.get("delta", ""))))
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            key = (position, int(payload.get("summary_index") or 0))
            prefix = "\n\n" if (self.open and self.open[0] == "thinking" and self.open[1] ==
                                position and key not in self.summary_seen) else ""
            self.summary_seen.add(key)
            out.extend(self._piece("thinking", position, n.Thinking(""),
                                   prefix + str(payload.get("delta", ""))))
        elif kind == "response.function_call_arguments.delta":
            if self.open and self.open[0] == "tool" and self.open[1] == position:
                out.append(n.PartDelta(self.open[2], "arguments", str(payload.get("delta", ""))))
        elif kind == "response.output_item.done":
            item = payload.get("item") or {}
            if (item.get("type") == "function_call" and item.get("arguments")
                    and not (self.open and self.open[1] == position)):
                # A call announced only when done: open, fill and close it here.
                self.called = True
                out.extend(self._open("tool", position, n.ToolCall(
                    str(item.get("call_id", "")), str(item.get("name", "")))))
                out.append(n.PartDelta(self.next_index - 1, "arguments", str(item["arguments"])))
            out.extend(self._close())
        elif kind in ("response.completed", "response.incomplete"):
            response = payload.get("response") or {}
            reason = (response.get("incomplete_details") or {}).get("reason")
            self.finished = True
            out.extend(self._close())
            out.append(n.StreamStop(decode_stop(response.get("status"), reason, self.called),
                                    decode_usage(response.get("usage"))))
        elif kind == "response.failed":
            error = (payload.get("response") or {}).get("error") or {}
            self.finished = True
            out.append(n.StreamFailed(status_for_code(error.get("code")),
                                      str(error.get("message") or "upstream response failed")))
        elif kind == "error":
            self.finished = True
            out.append(n.StreamFailed(status_for_code(payload.get("code")),
                                      str(payload.get("message") or "upstream stream error")))
        return out

    def end(self) -> list[n.StreamEvent]:
        """The bytes ended. A stream without a terminal event stays unfinished (a cut)."""
        return []

    def _open(self, kind: str, position: int, part: n.Part) -> list[n.StreamEvent]:
        out = self._close()
        index = self.next_index
        self.next_index += 1
        self.open = (kind, position, index)
        out.append(n.PartStart(index, part))
        return out

    def _close(self) -> list[n.StreamEvent]:
        if self.open is None:
            return []
        index = self.open[2]
        self.open = None
        return [n.PartStop(index)]

    def _piece(self, kind: str, position: int, part: n.Part, value: str) -> list[n.StreamEvent]:
        out: list[n.StreamEvent] = []
        if self.open is None or self.open[0] != kind or self.open[1] != position:
            out.extend(self._open(kind, position, part))
        if value:
            assert self.open is not None
            out.append(n.PartDelta(self.open[2], "thinking" if kind == "thinking" else "text",
                                   value))
        return out


class StreamEncoder:
    """Neutral stream events -> Responses event bytes, numbered from `first_sequence`."""

    def __init__(self, notes: n.Notes, model: str = "", first_sequence: int = 0,
                 resp_id: str | None = None, announce: bool = True) -> None:
        self.notes = notes
        self.model = model
        self.seq = first_sequence
        self.id = resp_id or new_id("resp")
        self.announce = announce
        """False when the client's stream was already opened (created was sent)."""
        self.output: list[dict[str, Any]] = []
        self.parts: dict[int, tuple[str, int, str]] = {}  # neutral index -> kind, output, id
        self.buffers: dict[int, list[str]] = {}
        self.calls: dict[int, n.ToolCall] = {}

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return event_frame(payload)

    def _snapshot(self, status: str, usage: n.Usage | None = None,
                  stop: n.StopReason | None = None) -> dict[str, Any]:
        return response_object(self.id, self.model, list(self.output), status, usage, stop)

    def encode(self, event: n.StreamEvent) -> bytes:
        """The bytes for one neutral event (may be empty)."""
        if isinstance(event, n.StreamStart):
            if event.id and self.announce:
                self.id = response_id(event.id)
            self.model = self.model or event.model
            if not self.announce:
                return b""
            return (self._event("response.created", response=self._snapshot("in_progress"))
                    + self._event("response.in_progress",
                                  response=self._snapshot("in_progress")))
        if isinstance(event, n.PartStart):
            return self._start(event)
        if isinstance(event, n.PartDelta):
            return self._delta(event)
        if isinstance(event, n.PartStop):
            return self._stop(event.index)
        if isinstance(event, n.StreamStop):
            out = b"".join(self._stop(i) for i in list(self.parts))
            status = status_for(event.stop)
            kind = "response.completed" if status == "completed" else "response.incomplete"
            return out + self._event(kind, response=self._snapshot(status, event.usage,
                                                                   event.stop))
        snapshot = self._snapshot("failed")
        snapshot["error"] = {"code": error_code_for(event.status), "message": event.message}
        return self._event("response.failed", response=snapshot)

    def _start(self, event: n.PartStart) -> bytes:
        part = event.part
        position = len(self.output)
        if isinstance(part, n.Text):
            item = message_item("", status="in_progress")
            self.output.append(item)
            self.parts[event.index] = ("text", position, item["id"])
            self.buffers[event.index] = []
            return (self._event("response.output_item.added", output_index=position, item=item)
                    + self._event("response.content_part.added", item_id=item["id"],
                                  output_index=position, content_index=0,
                                  part={"type": "output_text", "text": "", "annotations": []}))
        if isinstance(part, n.Thinking):
            item = reasoning_item("", new_id("rs"))
            self.output.append(item)
            self.parts[event.index] = ("thinking", position, item["id"])
            self.buffers[event.index] = []
            return (self._event("response.output_item.added", output_index=position, item=item)
                    + self._event("response.reasoning_summary_part.added", item_id=item["id"],
                                  output_index=position, summary_index=0,
                                  part={"type": "summary_text", "text": ""}))
        if isinstance(part, n.ToolCall):
            call = n.ToolCall(part.id, part.name, part.arguments)
            item = call_item(call, status="in_progress")
            self.output.append(item)
            self.parts[event.index] = ("tool", position, item["id"])
            self.calls[event.index] = call
            return self._event("response.output_item.added", output_index=position, item=item)
        if isinstance(part, n.RedactedThinking):
            self.notes.add("redacted thinking dropped (the Responses API has no field for it)")
        elif isinstance(part, n.Opaque):
            self.notes.add(f"{part.protocol} block {part.raw.get('type')} dropped from the "
                           "stream")
        return b""

    def _delta(self, event: n.PartDelta) -> bytes:
        entry = self.parts.get(event.index)
        if entry is None:
            return b""
        kind, position, item_id = entry
        if event.kind == "signature":
            self.notes.add("thinking signature dropped (the Responses API has no field for it)")
            return b""
        if kind == "tool":
            self.calls[event.index].arguments += event.value
            return self._event("response.function_call_arguments.delta", item_id=item_id,
                               output_index=position, delta=event.value)
        self.buffers[event.index].append(event.value)
        if kind == "thinking":
            return self._event("response.reasoning_summary_text.delta", item_id=item_id,
                               output_index=position, summary_index=0, delta=event.value)
        return self._event("response.output_text.delta", item_id=item_id,
                           output_index=position, content_index=0, delta=event.value,
                           logprobs=[])

    def _stop(self, index: int) -> bytes:
        entry = self.parts.pop(index, None)
        if entry is None:
            return b""
        kind, position, item_id = entry
        if kind == "tool":
            call = self.calls.pop(index)
            item = call_item(call, item_id)
            self.output[position] = item
            return (self._event("response.function_call_arguments.done", item_id=item_id,
                                output_index=position, arguments=call.arguments)
                    + self._event("response.output_item.done", output_index=position,
                                  item=item))
        text = "".join(self.buffers.pop(index, []))
        if kind == "thinking":
            item = reasoning_item(text, item_id)
            self.output[position] = item
            return (self._event("response.reasoning_summary_text.done", item_id=item_id,
                                output_index=position, summary_index=0, text=text)
                    + self._event("response.reasoning_summary_part.done", item_id=item_id,
                                  output_index=position, summary_index=0,
                                  part={"type": "summary_text", "text": text})
                    + self._event("response.output_item.done", output_index=position,
                                  item=item))
        item = message_item(text, item_id)
        self.output[position] = item
        part = {"type": "output_text", "text": text, "annotations": []}
        return (self._event("response.output_text.done", item_id=item_id,
                            output_index=position, content_index=0, text=text, logprobs=[])
                + self._event("response.content_part.done", item_id=item_id,
                              output_index=position, content_index=0, part=part)
                + self._event("response.output_item.done", output_index=position, item=item))


async def collect_stream(chunks: AsyncIterator[bytes], notes: n.Notes
                         ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Read a whole Responses stream: (the final response object, or None; the error if the
    stream failed). Output items are taken from `response.output_item.done` events when the
    final object has none (the ChatGPT Codex backend leaves `output` empty there)."""
    parser = SSEParser()
    items: dict[int, dict[str, Any]] = {}
    final: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    async for chunk in chunks:
        for event, payload in strict_json_events(parser, chunk):
            kind = payload.get("type", event.event)
            if kind == "response.output_item.done":
                items[int(payload.get("output_index") or len(items))] = payload.get("item") or {}
            elif kind in ("response.completed", "response.incomplete"):
                final = dict(payload.get("response") or {})
            elif kind == "response.failed":
                error = (payload.get("response") or {}).get("error") or {
                    "message": "response failed"}
            elif kind == "error":
                error = {"code": payload.get("code"), "message": payload.get("message")}
    if final is not None and not final.get("output") and items:
        final["output"] = [items[i] for i in sorted(items)]
    return final, error
