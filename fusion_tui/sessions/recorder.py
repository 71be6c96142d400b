"""Lossless JSONL recording: one file per session, a header line, one event a line, written
behind in small batches, 0600 files in a 0700 folder."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson

from fusion_tui.events import Event, RequestReceived, ResponseFinished, SteeringApplied
from fusion_tui.events.codec import SCHEMA_VERSION, encode_event

WRITE_BEHIND_S = 0.02
"""How long an event may wait in memory before it is written: a batch of events costs one
write per file instead of one per event, and no request waits on the disk."""

ENCODE_FAILED = "encode_failed"
"""The `kind` of the line written in place of an event that could not be encoded (replay
lists it among the skipped lines)."""

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
PLAIN_NAME_MAX = 120
"""Session ids of at most this many safe characters are their own file name."""
HASHED_PREFIX = 64
"""How many sanitised characters of any other id lead its file name, before its hash."""

DELTA_LISTS = ("messages", "input")
"""The body fields that grow turn to turn (a conversation's history): stored as the count of
leading items shared with the session's previous request plus the new tail."""


def safe_prefix(session_id: str) -> str:
    """The session id with every character outside [A-Za-z0-9_.-] made '_' (what a file name
    or a glob may hold)."""
    return _UNSAFE.sub("_", session_id)


def session_file_name(session_id: str) -> str:
    """The file name for a session id. A short id of safe characters ([A-Za-z0-9_.-]) is its
    own name; any other id (long, oddly spelled, not even valid UTF-8) gets its sanitised
    first characters, a `~` (never in a plain name) and a hash of the whole id, so two
    different ids never share a file and nothing escapes the folder."""
    safe = safe_prefix(session_id)
    if safe == session_id and 0 < len(safe) <= PLAIN_NAME_MAX:
        return safe + ".jsonl"
    digest = hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{safe[:HASHED_PREFIX]}~{digest}.jsonl"


def legacy_file_name(session_id: str) -> str:
    """The name schema 1 gave a session's file (sanitised, cut at 120 characters)."""
    return safe_prefix(session_id)[:PLAIN_NAME_MAX] + ".jsonl"


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
        self._last_body: dict[str, _BodyMemo] = {}
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
                self._write_session(session_id, session_events)
            except Exception as exc:  # one bad session must never cost another its events
                self._failed(f"session file for {session_id!r}: {type(exc).__name__}: {exc}")

    def _write_session(self, session_id: str, events: list[Event]) -> None:
        # Everything is encoded before the file is touched: a failure leaves no empty file.
        data = b"".join(self._encode(e) for e in events)
        fd = self._files.get(session_id)
        if fd is not None:
            self._files.move_to_end(session_id)
            _write_all(fd, data)
            return
        path = self.path_for(session_id)
        fresh = not path.exists()
        head = _header_bytes(session_id, events[0].ts) if fresh else b""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            if not fresh:  # the mode of O_CREAT applies only to new files: keep old ones private
                os.chmod(path, 0o600)
            _write_all(fd, head + data)
        except BaseException:
            os.close(fd)
            if fresh and path.stat().st_size == 0:
                path.unlink()
            self._last_body.pop(session_id, None)
            raise
        self._files[session_id] = fd
        while len(self._files) > self.max_open:
            oldest_id, oldest = self._files.popitem(last=False)
            self._last_body.pop(oldest_id, None)
            os.close(oldest)

    def _encode(self, event: Event) -> bytes:
        """The event's line (a request body as a delta against the session's previous one);
        one that cannot be encoded becomes an `encode_failed` line saying which event it was
        and why, so the rest of its batch is still written. Never raises."""
        event = self._strip(event)
        try:
            if isinstance(event, RequestReceived) and isinstance(event.body, dict):
                return self._encode_request(event, event.body)
            return _encode_any(event)
        except (TypeError, ValueError, RecursionError) as exc:
            self._last_body.pop(event.session_id, None)
            self._failed(f"cannot encode {event.kind} (seq {event.seq}): {exc}")
            return _dumps({
                "kind": ENCODE_FAILED, "session_id": event.session_id,
                "request_id": event.request_id, "seq": event.seq, "t": event.t,
                "ts": event.ts, "event_kind": event.kind, "error": str(exc)})

    def _encode_request(self, event: RequestReceived, body: dict[str, Any]) -> bytes:
        session_id = event.session_id
        previous = self._last_body.pop(session_id, None)
        try:
            memo = _BodyMemo.of(body)
        except orjson.JSONEncodeError:  # written whole by the fallback codec, no delta
            return _encode_any(event)
        line = encode_event(event)
        if previous is not None:
            delta = memo.delta_against(body, previous)
            if delta is not None:
                line["body"], line["delta"] = delta
        encoded = _dumps(line)
        self._last_body[session_id] = memo
        return encoded

    def _failed(self, message: str) -> None:
        self.errors += 1
        self.last_error = message
        log.warning("session recorder: %s", message)

    def _strip(self, event: Event) -> Event:
        if self.record == "full":
            return event
        if isinstance(event, RequestReceived):
            return dataclasses.replace(event, body=None)
        if isinstance(event, ResponseFinished):
            return dataclasses.replace(event, content=None)
        return event


class _BodyMemo:
    """What the delta of the session's next request is computed against: each top-level
    field of the last body as written, and each item of its growing list."""

    def __init__(self, fields: dict[str, bytes], list_key: str | None,
                 items: list[bytes]) -> None:
        self.fields = fields
        self.list_key = list_key
        self.items = items

    @classmethod
    def of(cls, body: dict[str, Any]) -> _BodyMemo:
        """The memo of one body (raises what orjson raises for a value it cannot encode)."""
        list_key = next((k for k in DELTA_LISTS if isinstance(body.get(k), list)), None)
        fields = {k: orjson.dumps(v) for k, v in body.items() if k != list_key}
        items = [orjson.dumps(m) for m in body[list_key]] if list_key else []
        return cls(fields, list_key, items)

    def delta_against(self, body: dict[str, Any], previous: _BodyMemo
                      ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(the fields of `body`, this memo's body, that changed, the delta note) or None
        when nothing is shared with `previous`."""
        same = [k for k, v in self.fields.items() if previous.fields.get(k) == v]
        base = 0
        if self.list_key and self.list_key == previous.list_key:
            for mine, theirs in zip(self.items, previous.items, strict=False):
                if mine != theirs:
                    break
                base += 1
        if not same and not base:
            return None
        changed = {k: v for k, v in body.items() if k not in same}
        if self.list_key:
            changed[self.list_key] = body[self.list_key][base:]
        return changed, {"keys": list(body), "list": self.list_key, "base": base}


def apply_delta(body: dict[str, Any], delta: dict[str, Any],
                previous: dict[str, Any]) -> dict[str, Any]:
    """The whole request body from a delta line's `body` and `delta` and the session's
    previous whole body (the one decoder replay, export and the sessions list read through).
    Raises ValueError when the line does not fit the previous body."""
    keys, list_key, base = delta.get("keys"), delta.get("list"), delta.get("base", 0)
    if not isinstance(keys, list) or not isinstance(base, int) or base < 0:
        raise ValueError("malformed delta")
    whole: dict[str, Any] = {}
    for key in keys:
        if key == list_key:
            shared = previous.get(key)
            tail = body.get(key)
            if not isinstance(shared, list) or len(shared) < base or not isinstance(tail, list):
                raise ValueError(f"delta shares {base} items of {key!r} the previous "
                                 "request does not have")
            whole[key] = shared[:base] + tail
        elif key in body:
            whole[key] = body[key]
        elif key in previous:
            whole[key] = previous[key]
        else:
            raise ValueError(f"delta keeps {key!r}, which the previous request lacks")
    return whole


def _dumps(data: dict[str, Any]) -> bytes:
    """One JSON line; what orjson refuses (a lone surrogate, an integer past 64 bits, deep
    nesting) is written by the stdlib codec with escapes instead of being lost."""
    try:
        return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(data, ensure_ascii=True, separators=(",", ":"),
                           default=str) + "\n").encode()


def _encode_any(event: Event) -> bytes:
    try:
        return encode_event_line(event)
    except orjson.JSONEncodeError:
        return _dumps(encode_event(event))


def _header_bytes(session_id: str, created: float) -> bytes:
    return _dumps({"kind": "header", "schema": SCHEMA_VERSION, "session_id": session_id,
                   "created": created})


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
