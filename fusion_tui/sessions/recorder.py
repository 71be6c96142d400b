"""Lossless JSONL recording: one file per session, a header line, one event a line, flushed
as it goes, 0600 files in a 0700 folder."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import IO

import orjson

from fusion_tui.events import Event, RequestReceived, ResponseFinished
from fusion_tui.events.codec import encode_event, header_line

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def session_file_name(session_id: str) -> str:
    """The file name for a session id (characters outside [A-Za-z0-9_.-] become '_')."""
    return _UNSAFE.sub("_", session_id)[:120] + ".jsonl"


class SessionRecorder:
    """A bus listener that appends every session event to that session's file.

    Events without a session (process-wide state) are not recorded. With `record="metadata"`
    request and response bodies are dropped before writing. Keeps at most `max_open` files
    open; older ones are closed and reopened for append when needed.
    """

    def __init__(self, folder: Path, record: str = "full", max_open: int = 64) -> None:
        self.folder = folder
        self.record = record
        self.max_open = max_open
        self._files: OrderedDict[str, IO[str]] = OrderedDict()
        self._pending: list[Event] = []
        self.errors = 0
        self.last_error: str | None = None
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)

    def path_for(self, session_id: str) -> Path:
        """Where a session's events are written."""
        return self.folder / session_file_name(session_id)

    def _open(self, event: Event) -> IO[str]:
        handle = self._files.get(event.session_id)
        if handle is not None:
            self._files.move_to_end(event.session_id)
            return handle
        path = self.path_for(event.session_id)
        fresh = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        handle = os.fdopen(fd, "a", encoding="utf-8")
        if fresh:
            handle.write(header_line(event.session_id, event.ts) + "\n")
        self._files[event.session_id] = handle
        while len(self._files) > self.max_open:
            _, oldest = self._files.popitem(last=False)
            oldest.close()
        return handle

    def _strip(self, event: Event) -> Event:
        if self.record == "full":
            return event
        if isinstance(event, RequestReceived):
            return dataclasses.replace(event, body=None)
        if isinstance(event, ResponseFinished):
            return dataclasses.replace(event, content=None)
        return event

    def __call__(self, event: Event) -> None:
        """Record one event (the bus calls this). Inside a running event loop the write
        happens on the loop's next turn, so a request's upstream call goes out before its
        body is written to disk; every event is still written and flushed in order."""
        if not event.session_id:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write(event)
            return
        self._pending.append(event)
        if len(self._pending) == 1:
            loop.call_soon(self.drain)

    def drain(self) -> None:
        """Write every event still waiting."""
        pending, self._pending = self._pending, []
        for event in pending:
            try:
                self._write(event)
            except OSError:
                continue  # counted in errors/last_error; one bad file must not stop the rest

    def _write(self, event: Event) -> None:
        try:
            handle = self._open(event)
            # orjson: the recorder sits on every request's path; the stdlib codec is the
            # contract's reference, this writes the same JSON several times faster.
            handle.write(orjson.dumps(encode_event(self._strip(event)),
                                      option=orjson.OPT_APPEND_NEWLINE).decode())
            handle.flush()
        except OSError as exc:
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise

    def close(self) -> None:
        """Write what is waiting, then flush and close every open file."""
        self.drain()
        while self._files:
            _, handle = self._files.popitem()
            handle.close()
