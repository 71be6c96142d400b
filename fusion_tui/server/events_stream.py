"""`GET /fusion/events`: the proxy's events as Server-Sent Events, for dashboards attached
from another process (`fusion-tui attach`).

Every event goes out as `id: <seq>`, `event: <kind>`, `data: <the recording's JSON>` (request
and response bodies left out). The stream opens with `event: hello` (`boot`, this process's
id; `oldest` and `latest`, the sequence numbers the replay buffer holds). A client resumes
after a reconnect with `Last-Event-ID: <seq>` or `?after=<seq>` (and `&boot=<id>`): it gets
the events after that one. When some of them have left the bounded replay buffer, or the
`boot` is not this process's (the proxy restarted), it first gets `event: gap` saying how
many it missed and why, then everything the buffer holds; the newest status of the
classifier and of every breaker is always sent first, so a late dashboard shows them."""

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


def frame(event: Event) -> bytes:
    """One SSE frame for `event`."""
    data = orjson.dumps(encode_event(event))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, event.kind.encode(), data)


def control_frame(kind: str, data: dict[str, object]) -> bytes:
    """An SSE frame that is not a proxy event (hello, gap)."""
    return b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps(data))


class EventLog:
    """The bounded replay buffer: a bus listener keeping the last `capacity` events (and the
    newest status events), and waking the stream writers."""

    def __init__(self, capacity: int = REPLAY_EVENTS) -> None:
        self.capacity = capacity
        self.boot = uuid.uuid4().hex
        self._events: list[Event] = []
        """Held events in the order they were published (a stream follows that order, so
        an event created before one published ahead of it is still sent)."""
        self._base = 0
        """The publish position of `_events[0]`."""
        self._frames: dict[int, bytes] = {}
        self._latest = 0
        self.evicted_upto = 0
        """The newest sequence number that has left the buffer (0: none has)."""
        self.status: dict[Hashable, Event] = {}
        self._wake: asyncio.Event | None = None
        self.watchers = 0
        self.closing = False
        """Set when the proxy shuts down: every stream ends at once (a dashboard holding
        one open would otherwise delay the shutdown by aiohttp's shutdown timeout)."""
        self.prior_attached = False
        """Whether a dashboard in the proxy's process watched before the first stream."""

    def __call__(self, event: Event) -> None:
        """The bus listener: keep the event, wake the writers."""
        key = _status_key(event)
        if key is not None:
            self.status[key] = event
        self._events.append(_lean(event))
        self._latest = max(self._latest, event.seq)
        if len(self._events) > 2 * self.capacity:
            cut = len(self._events) - self.capacity
            gone = self._events[:cut]
            self.evicted_upto = max(self.evicted_upto, *(e.seq for e in gone))
            for old in gone:
                self._frames.pop(id(old), None)
            del self._events[:cut]
            self._base += cut
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    @property
    def oldest(self) -> int:
        """The oldest sequence number held (0 when empty)."""
        return min((e.seq for e in self._events[:64]), default=0)

    @property
    def latest(self) -> int:
        """The newest sequence number held (0 when empty)."""
        return self._latest if self._events else 0

    @property
    def end(self) -> int:
        """The publish position after the newest held event."""
        return self._base + len(self._events)

    def close(self) -> None:
        """End every stream (the proxy is stopping)."""
        self.closing = True
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    def after(self, seq: int) -> list[Event]:
        """The events held whose sequence number is above `seq` (a resume), in publish
        order."""
        return [e for e in self._events if e.seq > seq]

    def since(self, position: int) -> list[Event]:
        """The events published at or after `position` that are still held."""
        return self._events[max(0, position - self._base):]

    def encoded(self, event: Event) -> bytes:
        """The frame of a held event, encoded once however many watch."""
        # Keyed by the held object, not its seq: two events may share a seq (one made from
        # another with dataclasses.replace), and each must go out as itself.
        data = self._frames.get(id(event))
        if data is None:
            data = self._frames[id(event)] = frame(event)
        return data

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
    if restarted or (after is not None and after > log.latest and log.latest):
        out.append(control_frame("gap", {"after": after, "oldest": log.oldest,
                                         "reason": "the proxy restarted"}))
        cursor = 0
    elif after is not None and after < log.evicted_upto:
        out.append(control_frame("gap", {"after": after, "oldest": log.oldest,
                                         "missed_upto": log.evicted_upto,
                                         "reason": "older than the replay buffer"}))
    if cursor == 0 or cursor < log.evicted_upto:
        out.extend(frame(e) for e in log.status.values() if e.seq < log.oldest)
    state = request.app[STATE]
    if log.watchers == 0:
        log.prior_attached = state.hold_desk.attached
    log.watchers += 1
    state.hold_desk.attached = True  # a person is watching: held briefings wait for them
    position: int | None = None
    """Where this watcher is in the publish order, once it has caught up from `cursor`."""
    try:
        while not log.closing:
            if cursor and cursor < log.evicted_upto:  # this watcher fell behind the buffer
                out.append(control_frame("gap", {"after": cursor, "oldest": log.oldest,
                                                 "missed_upto": log.evicted_upto,
                                                 "reason": "older than the replay buffer"}))
            events = log.after(cursor) if position is None else log.since(position)
            position = log.end
            if events:
                out.extend(log.encoded(e) for e in events)
                cursor = max(cursor, *(e.seq for e in events))
            await resp.write(b"".join(out) if out else b": keep-alive\n\n")
            out = []
            if log.end <= position and not log.closing:
                await log.changed(KEEPALIVE_S)
            await asyncio.sleep(BATCH_S)
        await resp.write_eof()
        return resp
    finally:
        log.watchers -= 1
        if log.watchers == 0:
            state.hold_desk.attached = log.prior_attached
