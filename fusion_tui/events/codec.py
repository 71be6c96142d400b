"""JSON-lines codec for events and the recording header."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from fusion_tui.events.model import EVENT_TYPES, Event

SCHEMA_VERSION = 2
"""2: a request's body may be stored as a delta against the session's previous request
(`delta` beside `body`; see sessions/recorder.py). 1 is read unchanged."""


def encode_event(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict with its `kind` first."""
    data: dict[str, Any] = {"kind": event.kind}
    for f in dataclasses.fields(event):
        data[f.name] = getattr(event, f.name)
    return data


def encode_line(event: Event) -> str:
    """One JSON line (without the newline)."""
    return json.dumps(encode_event(event), ensure_ascii=False, separators=(",", ":"))


def decode_event(data: dict[str, Any]) -> Event:
    """Rebuild an event from its dict; unknown fields are ignored (newer writers), missing
    optional ones take their defaults. Raises KeyError for an unknown kind."""
    cls = EVENT_TYPES[data["kind"]]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def header_line(session_id: str, created: float, **extra: Any) -> str:
    """The first line of a recording: schema version and who it belongs to."""
    head = {"kind": "header", "schema": SCHEMA_VERSION, "session_id": session_id,
            "created": created, **extra}
    return json.dumps(head, ensure_ascii=False, separators=(",", ":"))
