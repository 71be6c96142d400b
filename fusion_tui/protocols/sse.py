"""Server-sent events: an incremental parser for bytes from upstreams, and the encoder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One server-sent event: its `event` name (may be empty), its `data` text and its `id`
    (empty when the event has none)."""

    event: str
    data: str
    id: str = ""

    def json(self) -> Any:
        """The data parsed as JSON (raises orjson.JSONDecodeError if it is not)."""
        return orjson.loads(self.data)


class SSEParser:
    """Feed it bytes as they arrive; it returns the events completed so far.

    Handles CRLF and LF line ends, multi-line data, comments and events split across chunks.
    Works on whole events (split at blank lines) rather than line by line: this runs for every
    chunk of every streamed answer.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes; return the events that are now complete."""
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            # A CR at the very end may be half of a CRLF split across chunks: it stays in the
            # buffer and is normalised together with its LF next time.
            buffer = buffer.replace(b"\r\n", b"\n")
        blocks = buffer.split(b"\n\n")
        self._buffer = blocks.pop()
        events: list[SSEEvent] = []
        for block in blocks:
            event = _parse_block(block)
            if event is not None:
                events.append(event)
        return events

    @property
    def pending(self) -> bool:
        """True if an event was started but not terminated by a blank line."""
        return bool(self._buffer.strip())


def _parse_block(block: bytes) -> SSEEvent | None:
    # The usual shapes first: `event: x\ndata: {...}` and `data: {...}`, one line each.
    if block[:7] == b"event: ":
        end = block.find(b"\n")
        if end != -1 and block[end + 1:end + 7] == b"data: " and \
                block.find(b"\n", end + 1) == -1:
            return SSEEvent(block[7:end].decode("utf-8", errors="replace"),
                            block[end + 7:].decode("utf-8", errors="replace"))
    elif block[:6] == b"data: " and block.find(b"\n") == -1:
        return SSEEvent("", block[6:].decode("utf-8", errors="replace"))
    name = ""
    data: list[str] = []
    ident = ""
    for line in block.split(b"\n"):
        if not line or line[0] == 58:  # b":" starts a comment
            continue
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            data.append(value.decode("utf-8", errors="replace"))
        elif field == b"event":
            name = value.decode("utf-8", errors="replace")
        elif field == b"id":
            ident = value.decode("utf-8", errors="replace")
    if not data and not name:
        return None
    return SSEEvent(name, "\n".join(data), ident)


def first_data_event(buffer: bytes) -> SSEEvent | None:
    """The first complete event with data in `buffer` (None if none is complete yet). Only
    the blocks up to it are parsed: a stream's first chunk often holds the whole answer, and
    this runs before the client's first byte."""
    if b"\r" in buffer:
        buffer = buffer.replace(b"\r\n", b"\n")
    start = 0
    while (end := buffer.find(b"\n\n", start)) != -1:
        event = _parse_block(buffer[start:end])
        if event is not None and event.data:
            return event
        start = end + 2
    return None


DONE = "[DONE]"
"""The data of the OpenAI family's final event (not JSON)."""


class MalformedEvent(ValueError):
    """An event whose data is not a JSON object: the stream is broken, not merely odd."""


def event_object(event: SSEEvent) -> dict[str, Any]:
    """The event's data as a JSON object; MalformedEvent if it is not one."""
    try:
        payload = orjson.loads(event.data)
    except orjson.JSONDecodeError as exc:
        raise MalformedEvent(f"event data is not JSON: {event.data[:80]!r}") from exc
    if not isinstance(payload, dict):
        raise MalformedEvent(f"event data is not a JSON object: {event.data[:80]!r}")
    return payload


def strict_json_events(parser: SSEParser,
                       chunk: bytes) -> Iterator[tuple[SSEEvent, dict[str, Any]]]:
    """The events completed by `chunk` with their data as JSON objects, for relays that must
    not pass a broken stream on as a sound one: MalformedEvent for data that is not a JSON
    object. Events without data are skipped (SSE dispatches nothing for them), and so is the
    OpenAI family's `[DONE]` sentinel, which some Responses-compatible servers also send."""
    for event in parser.feed(chunk):
        if event.data and event.data != DONE:
            yield event, event_object(event)

class CheckedFrames(bytes):
    """Whole SSE frames, as bytes, with the events they completed already parsed and checked
    (`events`: each event with its data as a JSON object, or None for `[DONE]`), so a relay
    passing them on need not parse them again."""

    events: list[tuple[SSEEvent, dict[str, Any] | None]]


def checked_frames(data: bytes,
                   events: list[tuple[SSEEvent, dict[str, Any] | None]]) -> CheckedFrames:
    """`data` carrying `events`."""
    frames = CheckedFrames(data)
    frames.events = events
    return frames


def json_events(parser: SSEParser,
                chunk: bytes) -> list[tuple[SSEEvent, dict[str, Any]]]:
    """`strict_json_events` of `chunk`, taken from it when it is CheckedFrames (then `parser`
    is not fed: a stream is either all checked or not at all)."""
    if isinstance(chunk, CheckedFrames):
        return [(event, payload) for event, payload in chunk.events if payload is not None]
    return list(strict_json_events(parser, chunk))


def encode_sse(event: str | None, data: Any) -> bytes:
    """One SSE frame; `data` is serialised as compact JSON unless it is already bytes/str."""
    if isinstance(data, bytes):
        payload = data
    elif isinstance(data, str):
        payload = data.encode()
    else:
        payload = orjson.dumps(data)
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + payload + b"\n\n"
