"""`GET /fusion/events`: the proxy's events as Server-Sent Events, for dashboards attached
from another process (`fusion-tui attach`).

Every event goes out as `id: <position>`, `event: <kind>`, `data: <the recording's JSON>`
(request and response bodies left out). The position is the stream's own sequence number:
1, 2, 3, ... in the order the bus published the events (an event's `seq` is taken when it is
created, and an event created earlier may be published later, so `seq` cannot say what a
reader has seen). The stream opens with `event: hello` (`boot`, this process's id; `oldest`
and `latest`, the positions the replay buffer holds). A client resumes after a reconnect with
`Last-Event-ID: <position>` or `?after=<position>` (and `&boot=<id>`): it gets exactly the
events published after that one, in order, each once. When some of them have left the
bounded replay buffer, or the `boot` is not this process's (the proxy restarted), it first
gets `event: gap` saying what it missed and why, then everything the buffer holds; the newest
status of the classifier and of every breaker is always sent first, so a late dashboard shows
them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Hashable
from typing import TypeVar

import orjson
from aiohttp import web

from fusion_tui.events import (
    BreakerChanged,
    ClassifierStateChanged,
    Event,
    EventBus,
    RequestReceived,
    ResponseFinished,
)
from fusion_tui.events.codec import encode_event
from fusion_tui.server.app_keys import STATE
from fusion_tui.server.control_auth import control_token_ok
from fusion_tui.server.errors import error_for

E = TypeVar("E", bound=Event)

REPLAY_EVENTS = 20_000
"""Events the replay buffer keeps (a council of four advisors streams a few thousand)."""

KEEPALIVE_S = 15.0
"""A comment line this often keeps idle connections (and proxies between) open."""

BATCH_S = 0.03
"""A writer waits this long after a wake-up so a burst goes out in one write."""


def _status_key(event: Event) -> Hashable | None:
    if isinstance(event, ClassifierStateChanged):
        return ("classifier",)
    if isinstance(event, BreakerChanged):
        return ("breaker", event.upstream_id)
    return None


def _lean(event: Event) -> Event:
    """The event without request or response bodies (the dashboard does not show them)."""
    if isinstance(event, RequestReceived) and event.body is not None:
        return _without(event, "body")
    if isinstance(event, ResponseFinished) and event.content is not None:
        return _without(event, "content")
    return event


def _without(event: E, name: str) -> E:
    """A copy of the frozen event with field `name` None: its fields copied as they are
    (what `dataclasses.replace` gives, without calling the constructor on every request)."""
    lean = object.__new__(type(event))
    lean.__dict__.update(event.__dict__)
    lean.__dict__[name] = None
    return lean


def frame(event: Event, position: int) -> bytes:
    """One SSE frame for `event`, published at stream `position`."""
    data = orjson.dumps(encode_event(event))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (position, event.kind.encode(), data)


def control_frame(kind: str, data: dict[str, object]) -> bytes:
    """An SSE frame that is not a proxy event (hello, gap)."""
    return b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps(data))


class EventLog:
    """The bounded replay buffer: a bus listener numbering events in publish order (their
    stream positions, from 1), keeping the last `capacity` of them (and the newest status
    events), and waking the stream writers."""

    def __init__(self, capacity: int = REPLAY_EVENTS) -> None:
        self.capacity = capacity
        self.boot = uuid.uuid4().hex
        self._events: list[Event] = []
        """Held events in publish order: `_events[i]` is at position `evicted_upto + 1 + i`."""
        self._frames: dict[int, bytes] = {}
        """Encoded frames by position."""
        self.evicted_upto = 0
        """The newest position that has left the buffer (0: none has)."""
        self.status: dict[Hashable, tuple[int, Event]] = {}
        """The newest status event per key, with its position."""
        self._wake: asyncio.Event | None = None
        self.watchers = 0
        self.closing = False
        """Set when the proxy shuts down: every stream ends at once (a dashboard holding
        one open would otherwise delay the shutdown by aiohttp's shutdown timeout)."""
        self.prior_attached = False
        """Whether a dashboard in the proxy's process watched before the first stream."""

    def __call__(self, event: Event) -> None:
        """The bus listener: number and keep the event, wake the writers."""
        self._events.append(_lean(event))
        key = _status_key(event)
        if key is not None:
            self.status[key] = (self.latest, event)
        if len(self._events) > 2 * self.capacity:
            cut = len(self._events) - self.capacity
            for position in range(self.evicted_upto + 1, self.evicted_upto + cut + 1):
                self._frames.pop(position, None)
            del self._events[:cut]
            self.evicted_upto += cut
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    @property
    def oldest(self) -> int:
        """The oldest position held (0 when empty)."""
        return self.evicted_upto + 1 if self._events else 0

    @property
    def latest(self) -> int:
        """The newest position published (0 before the first event)."""
        return self.evicted_upto + len(self._events)

    def close(self) -> None:
        """End every stream (the proxy is stopping)."""
        self.closing = True
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    def after(self, position: int) -> list[tuple[int, Event]]:
        """The events held that were published after `position`, with their positions, in
        publish order."""
        first = max(position, self.evicted_upto) + 1
        return [(p, self._events[p - self.evicted_upto - 1])
                for p in range(first, self.latest + 1)]

    def evicted_status(self, position: int) -> list[tuple[int, Event]]:
        """The status events published after `position` that have left the buffer (a
        reader behind the buffer gets them before the rest), in publish order."""
        return sorted((p, e) for p, e in self.status.values()
                      if position < p <= self.evicted_upto)

    def encoded(self, position: int, event: Event) -> bytes:
        """The frame of the event at `position`, encoded once however many watch."""
        data = self._frames.get(position)
        if data is None:
            data = frame(event, position)
            if position > self.evicted_upto:
                self._frames[position] = data
        return data

    def catch_up(self, cursor: int, fresh: bool = False) -> tuple[list[bytes], int]:
        """What a reader that has seen everything up to position `cursor` is sent next:
        a gap notice when events after it have left the buffer (not for a `fresh` reader,
        which asked for whatever is held), the status events among them, then every held
        event after it; and the position it has then seen up to."""
        out: list[bytes] = []
        if cursor < self.evicted_upto:
            if not fresh:
                out.append(control_frame("gap", {"after": cursor, "oldest": self.oldest,
                                                 "missed_upto": self.evicted_upto,
                                                 "reason": "older than the replay buffer"}))
            out.extend(self.encoded(p, e) for p, e in self.evicted_status(cursor))
        out.extend(self.encoded(p, e) for p, e in self.after(cursor))
        return out, max(cursor, self.latest)

    async def changed(self, wait_s: float) -> None:
        """Wait until an event arrives or `wait_s` passes."""
        if self._wake is None:
            self._wake = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait_s)


EVENT_LOG = web.AppKey("event_log", EventLog)
CONTROL_TOKEN = web.AppKey("control_token", str)


def install(app: web.Application, bus: EventBus, token: str,
            capacity: int | None = None) -> EventLog:
    """Keep a replay buffer of `bus` (`capacity` events, default REPLAY_EVENTS) and serve it
    at `/fusion/events`."""
    log = EventLog(capacity or REPLAY_EVENTS)
    stop = bus.listen(log)
    app[EVENT_LOG] = log
    app[CONTROL_TOKEN] = token
    app.router.add_get("/fusion/events", stream_events)

    async def stop_listening(app: web.Application) -> None:
        stop()

    async def end_streams(app: web.Application) -> None:
        log.close()

    app.on_shutdown.append(end_streams)
    app.on_cleanup.append(stop_listening)
    return log


def require_control(request: web.Request) -> web.Response | None:
    """A 401 unless the request presents the control token."""
    if control_token_ok(request, request.app[CONTROL_TOKEN]):
        return None
    return error_for(request, 401, "missing or wrong control token for fusion-tui (send it as "
                                   "Authorization: Bearer or x-fusion-token; it is in "
                                   "$XDG_STATE_HOME/fusion-tui/control.token)")


def _resume_point(request: web.Request) -> int | None:
    raw = request.query.get("after") or request.headers.get("Last-Event-ID")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(text="after / Last-Event-ID must be a sequence number") from exc
    if value < 0:
        raise web.HTTPBadRequest(text="after / Last-Event-ID must not be negative")
    return value


async def stream_events(request: web.Request) -> web.StreamResponse:
    """The event stream (see the module's docstring)."""
    refused = require_control(request)
    if refused is not None:
        return refused
    log = request.app[EVENT_LOG]
    try:
        after = _resume_point(request)
    except web.HTTPBadRequest as exc:
        return error_for(request, 400, exc.text or "bad resume point")
    boot = request.query.get("boot")
    resp = web.StreamResponse(headers={"content-type": "text/event-stream",
                                       "cache-control": "no-store",
                                       "x-accel-buffering": "no"})
    await resp.prepare(request)
    out = [control_frame("hello", {"boot": log.boot, "oldest": log.oldest,
                                   "latest": log.latest, "capacity": log.capacity})]
    cursor = 0 if after is None else after
    restarted = boot is not None and boot != log.boot
    if restarted or cursor > log.latest:
        out.append(control_frame("gap", {"after": after, "oldest": log.oldest,
                                         "reason": "the proxy restarted"}))
        cursor = 0
    state = request.app[STATE]
    if log.watchers == 0:
        log.prior_attached = state.hold_desk.attached
    log.watchers += 1
    state.hold_desk.attached = True  # a person is watching: held briefings wait for them
    try:
        frames, cursor = log.catch_up(cursor, fresh=cursor == 0)
        out.extend(frames)
        while not log.closing:
            await resp.write(b"".join(out) if out else b": keep-alive\n\n")
            if log.latest <= cursor and not log.closing:
                await log.changed(KEEPALIVE_S)
            await asyncio.sleep(BATCH_S)
            # everything published since the last write, in order, each once: the cursor
            # moves only over what went into `out`, never past it
            out, cursor = log.catch_up(cursor)
        await resp.write_eof()
        return resp
    finally:
        log.watchers -= 1
        if log.watchers == 0:
            state.hold_desk.attached = log.prior_attached
