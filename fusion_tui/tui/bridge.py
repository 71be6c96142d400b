"""The one path from the core's events to the widgets.

A single worker reads the bus subscription, lets a burst accumulate for at most one frame
(about 30 flushes a second), coalesces it and posts one `EventBatch` message to each sink.
The bus never waits for this worker: its queue is bounded and the bus drops (and counts)
what does not fit.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from fusion_tui.events import (
    AdvisorDelta,
    AdvisorFinished,
    BreakerChanged,
    BriefingDelta,
    BriefingHeld,
    BriefingReady,
    ClassifierStateChanged,
    Event,
    Subscription,
)

FLUSH_HZ = 30.0
"""Batches posted per second at most."""

MAX_BATCH = 5_000
"""Most events one batch carries; the rest wait for the next frame."""

StatusKey = Callable[[Event], Hashable]

STATUS_KEYS: dict[type[Event], StatusKey] = {
    BreakerChanged: lambda e: ("breaker", getattr(e, "upstream_id", "")),
    ClassifierStateChanged: lambda e: ("classifier",),
}
"""Status-like events: within a batch only the newest per key is kept. Later issues add
their own (gate state, steering state) here."""


class EventBatch(Message, bubble=False):
    """Events that arrived since the last batch, oldest first.

    `dropped` is the subscription's running count of events the bus dropped because this
    dashboard fell behind (shown on screen, never hidden).
    """

    def __init__(self, events: Sequence[Event], dropped: int = 0) -> None:
        super().__init__()
        self.events: tuple[Event, ...] = tuple(events)
        self.dropped = dropped


def _delta_key(event: Event) -> Hashable | None:
    if isinstance(event, AdvisorDelta):
        return (event.request_id, event.advisor)
    if isinstance(event, BriefingDelta):
        return (event.request_id, "")
    return None


def _closing_key(event: Event) -> Hashable | None:
    if isinstance(event, AdvisorFinished):
        return (event.request_id, event.advisor)
    if isinstance(event, (BriefingReady, BriefingHeld)):
        return (event.request_id, "")
    return None


def concatenate_deltas(events: Iterable[Event]) -> list[Event]:
    """Token deltas of one (request, advisor) (or one briefing) joined into the first of
    them, in order; an advisor's finish or the briefing's readiness starts a new run."""
    out: list[Event] = []
    open_runs: dict[Hashable, int] = {}
    parts: dict[int, list[str]] = {}
    for event in events:
        key = _delta_key(event)
        if key is None:
            closing = _closing_key(event)
            if closing is not None:
                open_runs.pop(closing, None)
            out.append(event)
            continue
        index = open_runs.get(key)
        text = getattr(event, "text", "")
        if index is None:
            open_runs[key] = len(out)
            parts[len(out)] = [text]
            out.append(event)
        else:
            parts[index].append(text)
    for index, texts in parts.items():
        if len(texts) > 1:
            delta: Any = out[index]  # an AdvisorDelta or a BriefingDelta: both have `text`
            out[index] = dataclasses.replace(delta, text="".join(texts))
    return out


def coalesce(events: Iterable[Event]) -> list[Event]:
    """`events` in order, with each status-like event replacing older ones of its key and
    token deltas concatenated per (request, advisor)."""
    items = concatenate_deltas(events)
    latest: dict[Hashable, int] = {}
    for index, event in enumerate(items):
        key_of = STATUS_KEYS.get(type(event))
        if key_of is not None:
            latest[key_of(event)] = index
    keep = set(latest.values())
    return [e for i, e in enumerate(items)
            if type(e) not in STATUS_KEYS or i in keep]


class EventBridge:
    """Reads `subscription` and posts batches to the message pumps `sinks()` returns.

    Run `run()` as one Textual worker; cancelling the worker ends it and closes the
    subscription.
    """

    def __init__(self, subscription: Subscription,
                 sinks: Callable[[], Iterable[MessagePump]],
                 flush_hz: float = FLUSH_HZ, max_batch: int = MAX_BATCH) -> None:
        self.subscription = subscription
        self._sinks = sinks
        self.interval = 1.0 / flush_hz
        self.max_batch = max_batch
        self.batches = 0
        self.events = 0
        self.largest = 0
        """Most events one flush took (the bench reports it)."""
        self.running = False

    def _take(self, first: Event) -> list[Event]:
        events = [first]
        queue = self.subscription.queue
        while len(events) < self.max_batch and not queue.empty():
            events.append(queue.get_nowait())
        return events

    def flush(self, events: Sequence[Event]) -> None:
        """Coalesce `events` and post one batch to every sink now."""
        batch = coalesce(events)
        self.batches += 1
        self.events += len(events)
        self.largest = max(self.largest, len(events))
        dropped = self.subscription.dropped
        for sink in self._sinks():
            sink.post_message(EventBatch(batch, dropped))

    async def run(self) -> None:
        """Forward batches until cancelled. RuntimeError when it already runs: two readers
        of one queue would each post batches, and the screens would fold them out of
        order."""
        if self.running:
            raise RuntimeError("the event bridge is already running: one reader per queue")
        self.running = True
        loop = asyncio.get_running_loop()
        next_flush = loop.time()
        try:
            while True:
                first = await self.subscription.get()
                wait = next_flush - loop.time()
                if wait > 0:
                    # let the burst gather: one batch per frame, not one per event
                    await asyncio.sleep(wait)
                self.flush(self._take(first))
                next_flush = loop.time() + self.interval
        finally:
            self.running = False
            self.subscription.close()
