"""The event bus: publishing never blocks, a slow subscriber never slows the proxy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fusion_tui.events.model import Event

Listener = Callable[[Event], None]

log = logging.getLogger(__name__)


def listener_name(listener: Listener) -> str:
    """A readable name for a listener (its qualified name, or its class's)."""
    name = getattr(listener, "__qualname__", None) or type(listener).__qualname__
    return f"{getattr(listener, '__module__', '') or type(listener).__module__}.{name}"


class Subscription:
    """A bounded queue of events for one asynchronous consumer (the dashboard's bridge).

    When the queue is full the newest event is dropped and counted in `dropped`: the consumer
    is behind, and the proxy must not wait for it.
    """

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        """Queue `event` if there is room, else count it as dropped."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    async def get(self) -> Event:
        """Wait for the next event."""
        return await self.queue.get()

    def drain(self) -> list[Event]:
        """Take every event queued now, without waiting."""
        items: list[Event] = []
        while True:
            try:
                items.append(self.queue.get_nowait())
            except asyncio.QueueEmpty:
                return items

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        """Stop receiving events."""
        self._bus.unsubscribe(self)


class EventBus:
    """Fan-out of events to synchronous listeners (the recorder, loggers) and to queued
    subscriptions (the dashboard). Listeners must be quick and must not raise; an exception
    from one never reaches the publisher: it is logged (a warning with its traceback the first
    time a listener fails, counted after that) and shown per listener by `health()`, which
    /health reports."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._subscriptions: list[Subscription] = []
        self.listener_errors = 0
        self.last_listener_error: str | None = None
        self.failing: dict[str, dict[str, Any]] = {}

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` for every event; returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        """A new bounded queue that receives every event published from now on."""
        sub = Subscription(self, maxsize)
        self._subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscription (no error if already gone)."""
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)

    def publish(self, event: Event) -> None:
        """Deliver `event` to everyone, now, without awaiting anything."""
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # a broken watcher must not break a client's request
                self._listener_failed(listener, event, exc)
        for sub in tuple(self._subscriptions):
            sub.offer(event)

    def _listener_failed(self, listener: Listener, event: Event, exc: Exception) -> None:
        self.listener_errors += 1
        error = f"{type(exc).__name__}: {exc}"
        self.last_listener_error = error
        name = listener_name(listener)
        entry = self.failing.get(name)
        if entry is None:
            self.failing[name] = {"errors": 1, "last_error": error, "event": event.kind}
            log.warning("event listener %s failed on %s (said once; counted in /health)",
                        name, event.kind, exc_info=exc)
        else:
            entry.update(errors=entry["errors"] + 1, last_error=error, event=event.kind)

    def health(self) -> dict[str, Any]:
        """Listener failures so far, per listener, and dropped events per subscription."""
        return {"listener_errors": self.listener_errors,
                "failing_listeners": {k: dict(v) for k, v in self.failing.items()},
                "dropped_by_subscribers": sum(s.dropped for s in self._subscriptions)}
