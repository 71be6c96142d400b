"""The event bus: publishing never blocks, a slow subscriber never slows the proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from fusion_tui.events.model import Event

Listener = Callable[[Event], None]


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
    from one is reported through `on_listener_error` and never reaches the publisher."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._subscriptions: list[Subscription] = []
        self.listener_errors = 0
        self.last_listener_error: str | None = None

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
                self.listener_errors += 1
                self.last_listener_error = f"{type(exc).__name__}: {exc}"
        for sub in tuple(self._subscriptions):
            sub.offer(event)
