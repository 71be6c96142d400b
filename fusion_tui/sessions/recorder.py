"""Lossless JSONL recording: one file per session, a header line, one event a line, written
behind in small batches, 0600 files in a 0700 folder."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
from collections import OrderedDict
from pathlib import Path

import orjson

from fusion_tui.events import Event, RequestReceived, ResponseFinished, SteeringApplied
from fusion_tui.events.codec import header_line

WRITE_BEHIND_S = 0.02
"""How long an event may wait in memory before it is written: a batch of events costs one
write per file instead of one per event, and no request waits on the disk."""

ENCODE_FAILED = "encode_failed"
"""The `kind` of the line written in place of an event that could not be encoded (replay
lists it among the skipped lines)."""

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def session_file_name(session_id: str) -> str:
    """The file name for a session id (characters outside [A-Za-z0-9_.-] become '_')."""
    return _UNSAFE.sub("_", session_id)[:120] + ".jsonl"


class SessionRecorder:
    """A bus listener that appends every session event to that session's file.

    Events without a session (process-wide state) are not recorded, except global steering
    (`SteeringApplied` with no session), which goes into every session file open when it is
    written, so a replay shows what a person changed for everyone. With `record="metadata"`
    request and response bodies are dropped before writing. Events are written behind (see
    `__call__`), in the order they were published, each batch with one unbuffered write per
    file: in the file when the write returns, and in the kernel's hands, so a killed process
    loses only what had not been written yet. Keeps at most `max_open` files open; older ones
    are closed and reopened for append when needed.
    """

    def __init__(self, folder: Path, record: str = "full", max_open: int = 64) -> None:
        self.folder = folder
        self.record = record
        self.max_open = max_open
        self._files: OrderedDict[str, int] = OrderedDict()
        self._pending: list[Event] = []
        self.errors = 0
        self.last_error: str | None = None
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)

    def path_for(self, session_id: str) -> Path:
        """Where a session's events are written."""
        return self.folder / session_file_name(session_id)

    def __call__(self, event: Event) -> None:
        """Record one event (the bus calls this). Inside a running event loop events are
        written behind, in one batch at most `WRITE_BEHIND_S` later (one write per file, off
        the requests' critical path); outside one, at once. Order is always kept."""
        if not event.session_id and not isinstance(event, SteeringApplied):
            return
        self._pending.append(event)
        if len(self._pending) > 1:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        loop.call_later(WRITE_BEHIND_S, self.flush)

    def flush(self) -> None:
        """Write every event still waiting, now."""
        pending, self._pending = self._pending, []
        self._write_batch(pending)

    def close(self) -> None:
        """Write what is waiting, then close every open file."""
        self.flush()
        while self._files:
            _, fd = self._files.popitem()
            os.close(fd)

    def _write_batch(self, events: list[Event]) -> None:
        by_session: dict[str, list[Event]] = {}
        for event in events:
            if event.session_id:
                by_session.setdefault(event.session_id, []).append(event)
                continue
            for session_id in {**dict.fromkeys(self._files), **dict.fromkeys(by_session)}:
                by_session.setdefault(session_id, []).append(event)
        for session_id, session_events in by_session.items():
            try:
                fd = self._open(session_id, session_events[0].ts)
                _write_all(fd, b"".join(self._encode(e) for e in session_events))
            except OSError as exc:  # one bad file must not stop the rest
                self._failed(f"{type(exc).__name__}: {exc}")

    def _encode(self, event: Event) -> bytes:
        """The event's line; one that cannot be encoded becomes an `encode_failed` line
        saying which event it was and why, so the rest of its batch is still written."""
        try:
            return encode_event_line(self._strip(event))
        except orjson.JSONEncodeError as exc:
            self._failed(f"cannot encode {event.kind} (seq {event.seq}): {exc}")
            return orjson.dumps({
                "kind": ENCODE_FAILED, "session_id": event.session_id,
                "request_id": event.request_id, "seq": event.seq, "t": event.t,
                "ts": event.ts, "event_kind": event.kind, "error": str(exc)},
                option=orjson.OPT_APPEND_NEWLINE)

    def _failed(self, message: str) -> None:
        self.errors += 1
        self.last_error = message
        log.warning("session recorder: %s", message)

    def _open(self, session_id: str, created: float) -> int:
        fd = self._files.get(session_id)
        if fd is not None:
            self._files.move_to_end(session_id)
            return fd
        path = self.path_for(session_id)
        fresh = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            if fresh:
                _write_all(fd, (header_line(session_id, created) + "\n").encode())
            else:  # the mode of O_CREAT applies only to new files: keep old ones private too
                os.chmod(path, 0o600)
        except OSError:
            os.close(fd)
            raise
        self._files[session_id] = fd
        while len(self._files) > self.max_open:
            _, oldest = self._files.popitem(last=False)
            os.close(oldest)
        return fd

    def _strip(self, event: Event) -> Event:
        if self.record == "full":
            return event
        if isinstance(event, RequestReceived):
            return dataclasses.replace(event, body=None)
        if isinstance(event, ResponseFinished):
            return dataclasses.replace(event, content=None)
        return event


def encode_event_line(event: Event) -> bytes:
    """The event as one JSON line, `kind` first, the same JSON as the stdlib codec's
    `encode_line`. orjson serialises the dataclass itself: the recorder sits on every
    request's path, and this is several times faster than building a dict first."""
    return b'{"kind":"' + event.kind.encode() + b'",' + orjson.dumps(
        event, option=orjson.OPT_APPEND_NEWLINE)[1:]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
