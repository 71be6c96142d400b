"""A small replay source: read a session recording and publish its events into a bus.

A later issue moves this into `fusion_tui.sessions`; the dashboard does not care where
events come from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from fusion_tui.events import Event, EventBus, decode_event


def load_recording(path: str | Path) -> list[Event]:
    """The events of a JSONL recording, in file order.

    The header line is skipped; so is a torn last line (a crash mid-write) and any line whose
    kind this version does not know. Raises OSError if the file cannot be read.
    """
    events: list[Event] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn line: replay what is whole
            if not isinstance(data, dict) or data.get("kind") == "header":
                continue
            try:
                events.append(decode_event(data))
            except (KeyError, TypeError):
                continue
    return events


def publish_all(bus: EventBus, events: Iterable[Event]) -> int:
    """Publish `events` into `bus` at once, in order; returns how many."""
    count = 0
    for event in events:
        bus.publish(event)
        count += 1
    return count
