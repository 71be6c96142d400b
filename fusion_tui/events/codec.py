"""JSON-lines codec for events and the recording header."""

from __future__ import annotations

import dataclasses
import json
import typing
from enum import StrEnum
from typing import Any

from fusion_tui.events.model import EVENT_TYPES, Event

SCHEMA_VERSION = 2
"""2: a request's body may be stored as a delta against the session's previous request
(`delta` beside `body`; see sessions/recorder.py). 1 is read unchanged."""


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
"""Each event type's field names, in declaration order (`dataclasses.fields` builds its
answer anew on every call: about a third of the encoding's cost, five times a request)."""


def encode_event(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict with its `kind` first."""
    cls = type(event)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(event))
    data: dict[str, Any] = {"kind": event.kind}
    for name in names:
        data[name] = getattr(event, name)
    return data


def encode_line(event: Event) -> str:
    """One JSON line (without the newline)."""
    return json.dumps(encode_event(event), ensure_ascii=False, separators=(",", ":"))


def decode_event(data: dict[str, Any]) -> Event:
    """Rebuild an event from its dict; unknown fields are ignored (newer writers), missing
    optional ones take their defaults, a closed set's value becomes its enum member. Raises
    KeyError for an unknown kind, TypeError for a value outside its closed set."""
    cls = EVENT_TYPES[data["kind"]]
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: v for k, v in data.items() if k in names}
    for name, enum in _closed_sets(cls).items():
        value = fields.get(name)
        if value is None or isinstance(value, enum):
            continue
        try:
            fields[name] = enum(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise TypeError(f"{data['kind']}.{name}: {value!r} is not one of {allowed}"
                            ) from None
    return cls(**fields)


_CLOSED_SETS: dict[str, dict[str, type[StrEnum]]] = {}


def _closed_sets(cls: type[Event]) -> dict[str, type[StrEnum]]:
    """The fields of `cls` typed as a StrEnum (or an optional one): field name -> the enum."""
    known = _CLOSED_SETS.get(cls.__name__)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    found: dict[str, type[StrEnum]] = {}
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name)
        for candidate in (hint, *typing.get_args(hint)):
            if isinstance(candidate, type) and issubclass(candidate, StrEnum):
                found[f.name] = candidate
    _CLOSED_SETS[cls.__name__] = found
    return found


def header_line(session_id: str, created: float, **extra: Any) -> str:
    """The first line of a recording: schema version and who it belongs to."""
    head = {"kind": "header", "schema": SCHEMA_VERSION, "session_id": session_id,
            "created": created, **extra}
    return json.dumps(head, ensure_ascii=False, separators=(",", ":"))
