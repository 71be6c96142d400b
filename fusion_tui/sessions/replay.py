"""Read recordings back: header, events, torn last lines, older schema versions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusion_tui.events import Event, EventBus, decode_event
from fusion_tui.events.codec import SCHEMA_VERSION
from fusion_tui.sessions.recorder import apply_delta


class RecordingError(ValueError):
    """A file that is not a recording (no header, a newer schema, unreadable)."""


def _migrate_v0(data: dict[str, Any]) -> dict[str, Any]:
    # Version 0 (pre-release) wrote `type` instead of `kind` and no wall clock.
    if "kind" not in data and "type" in data:
        data = {**data, "kind": data.pop("type")}
    data.setdefault("ts", 0.0)
    return data


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 wrote every request body whole; version 2 may write a delta, which a whole
    # body is a special case of: nothing to change.
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_v0,
                                                                     1: _migrate_v1}


@dataclass
class Recording:
    """A recording as read: its header, its events, and what had to be skipped."""

    path: Path
    header: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        """The session this recording belongs to."""
        return str(self.header.get("session_id", self.path.stem))


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, torn) for each non-empty line; only an unterminated last line can
    be torn."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if line:
            yield number, line, number == len(lines)


def read_recording(path: Path) -> Recording:
    """Parse a recording. A torn last line (a crash mid-write) is skipped, never fatal; so is
    an event of a kind this version does not know (noted in `skipped`)."""
    try:
        lines = list(_lines(path))
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not lines:
        raise RecordingError(f"{path}: empty file, not a recording")
    try:
        header = json.loads(lines[0][1])
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{path}: first line is not a recording header") from exc
    if not isinstance(header, dict) or header.get("kind") != "header":
        raise RecordingError(f"{path}: first line is not a recording header")
    schema = int(header.get("schema", 0))
    if schema > SCHEMA_VERSION:
        raise RecordingError(f"{path}: schema {schema} is newer than this fusion-tui "
                             f"understands ({SCHEMA_VERSION}); upgrade fusion-tui")
    recording = Recording(path, header)
    previous_body: dict[str, Any] | None = None
    for number, line, torn in lines[1:]:
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            recording.skipped.append(f"line {number}: " + ("torn last line (the writer stopped "
                                     "mid-event)" if torn else "not JSON"))
            continue
        if not isinstance(data, dict):
            recording.skipped.append(f"line {number}: not an event")
            continue
        for version in range(schema, SCHEMA_VERSION):
            data = MIGRATIONS.get(version, lambda d: d)(data)
        if data.get("kind") == "request_received":
            try:
                data, previous_body = _whole_request(data, previous_body)
            except ValueError as exc:
                recording.skipped.append(f"line {number}: {exc}")
                previous_body = None
                continue
        try:
            recording.events.append(decode_event(data))
        except (KeyError, TypeError) as exc:
            recording.skipped.append(f"line {number}: unknown event ({exc})")
    return recording


def _whole_request(data: dict[str, Any], previous: dict[str, Any] | None
                   ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The request line with its whole body, and the body the next delta builds on."""
    body, delta = data.get("body"), data.get("delta")
    if delta is None:
        return data, body if isinstance(body, dict) else None
    if not isinstance(delta, dict) or not isinstance(body, dict):
        raise ValueError("malformed request delta")
    if previous is None:
        raise ValueError("request stored as a delta against a request that was not read")
    whole = apply_delta(body, delta, previous)
    return {**data, "body": whole}, whole


class ReplaySource:
    """Publishes a recording's events into a bus, paced by their recorded times.

    `speed` scales time (2.0: twice as fast; 0: as fast as possible). Transport: pause,
    resume, step (one event while paused), and jumps between requests.
    """

    def __init__(self, recording: Recording, bus: EventBus, speed: float = 1.0,
                 max_gap_s: float = 2.0) -> None:
        self.recording = recording
        self.bus = bus
        self.speed = speed
        self.max_gap_s = max_gap_s
        self.position = 0
        self._running = asyncio.Event()
        self._running.set()
        self._step = asyncio.Event()
        self.finished = False

    @property
    def paused(self) -> bool:
        """True while paused."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Stop publishing until resumed or stepped."""
        self._running.clear()

    def resume(self) -> None:
        """Continue publishing."""
        self._running.set()

    def step(self) -> None:
        """Publish one event (while paused)."""
        self._step.set()

    def request_starts(self) -> list[int]:
        """Event indexes where each request begins."""
        return [i for i, e in enumerate(self.recording.events) if e.kind == "request_received"]

    def jump_to_request(self, number: int) -> None:
        """Publish everything before request `number` (1-based) at once and continue there."""
        starts = self.request_starts()
        if not starts:
            return
        target = starts[max(0, min(number, len(starts)) - 1)]
        for event in self.recording.events[self.position:target]:
            self.bus.publish(event)
        self.position = max(self.position, target)

    def current_request(self) -> int:
        """1-based number of the request the position is in (0 before the first)."""
        return sum(1 for s in self.request_starts() if s < self.position)

    async def run(self) -> None:
        """Publish events until the end."""
        events = self.recording.events
        while self.position < len(events):
            if self.paused:
                step_wait = asyncio.ensure_future(self._step.wait())
                run_wait = asyncio.ensure_future(self._running.wait())
                try:
                    await asyncio.wait({step_wait, run_wait},
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    step_wait.cancel()
                    run_wait.cancel()
                if self._step.is_set():
                    self._step.clear()
                    self._publish_next()
                continue
            if self.position > 0 and self.speed > 0:
                gap = events[self.position].t - events[self.position - 1].t
                await asyncio.sleep(min(max(gap, 0.0), self.max_gap_s) / self.speed)
            else:
                await asyncio.sleep(0)
            if not self.paused:
                self._publish_next()
        self.finished = True

    def _publish_next(self) -> None:
        if self.position < len(self.recording.events):
            self.bus.publish(self.recording.events[self.position])
            self.position += 1
