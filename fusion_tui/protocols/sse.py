"""Server-sent events: an incremental parser for bytes from upstreams, and the encoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One server-sent event: its `event` name (may be empty) and its `data` text."""

    event: str
    data: str

    def json(self) -> Any:
        """The data parsed as JSON (raises orjson.JSONDecodeError if it is not)."""
        return orjson.loads(self.data)


class SSEParser:
    """Feed it bytes as they arrive; it returns the events completed so far.

    Handles CRLF and LF line ends, multi-line data, comments and events split across chunks.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes; return the events that are now complete."""
        self._buffer += chunk
        events: list[SSEEvent] = []
        while True:
            nl = self._buffer.find(b"\n")
            if nl < 0:
                return events
            raw = self._buffer[:nl]
            self._buffer = self._buffer[nl + 1:]
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if not line:
                if self._data or self._event:
                    events.append(SSEEvent(self._event, "\n".join(self._data)))
                self._event, self._data = "", []
                continue
            if line.startswith(b":"):
                continue
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            text = value.decode("utf-8", errors="replace")
            if name == b"event":
                self._event = text
            elif name == b"data":
                self._data.append(text)

    @property
    def pending(self) -> bool:
        """True if an event was started but not terminated by a blank line."""
        return bool(self._buffer.strip() or self._data)


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
