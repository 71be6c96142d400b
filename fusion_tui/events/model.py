"""Event dataclasses. Each carries who it belongs to, a sequence number and two clocks.

New event types register themselves by subclassing `Event`; the codec finds them by `kind`,
the snake_case form of the class name (`GateDecided` -> `gate_decided`).
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

_seq = itertools.count(1)

EVENT_TYPES: dict[str, type[Event]] = {}


def _kind_of(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _next_seq() -> int:
    return next(_seq)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event: `session_id`, `request_id`, a process-wide sequence number `seq`,
    `t` (monotonic seconds, for durations) and `ts` (wall clock, for people)."""

    session_id: str = ""
    request_id: str = ""
    seq: int = field(default_factory=_next_seq)
    t: float = field(default_factory=time.monotonic)
    ts: float = field(default_factory=time.time)

    kind: ClassVar[str] = "event"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = _kind_of(cls.__name__)
        EVENT_TYPES[cls.kind] = cls


@dataclass(frozen=True, kw_only=True)
class RequestReceived(Event):
    """A client request arrived and was parsed. `body` is the request body (never headers),
    or None when the recorder is set to keep metadata only."""

    protocol: str  # "anthropic" | "openai" | "responses"
    path: str
    model: str
    stream: bool
    client: str  # the User-Agent, shortened
    tools: int
    messages: int
    body_bytes: int
    body: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class GateDecided(Event):
    """The gate judged the request: the tier, per-tier scores, why, which segments it used.
    `request_kind` is main, title, compaction or subagent; a sub-agent's `lane` (its task's
    hash) groups its requests under the parent session (`session_id`)."""

    tier: str
    scores: dict[str, float]
    reason: str
    segments: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    overrides: dict[str, str] = field(default_factory=dict)
    request_kind: str = "main"
    lane: str = ""


@dataclass(frozen=True, kw_only=True)
class RouteChosen(Event):
    """The router picked who serves the request; `route` is the x-fusion-route header value."""

    mode: str
    tier: str
    upstream_id: str
    route: str


@dataclass(frozen=True, kw_only=True)
class SessionPinned(Event):
    """A session was pinned (or re-pinned after failover) to an actor."""

    upstream_id: str
    previous: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class StreamStarted(Event):
    """The first byte of a streamed answer went to the client."""

    upstream_id: str
    ttfb_ms: float


@dataclass(frozen=True, kw_only=True)
class UpstreamFailed(Event):
    """An upstream call failed: HTTP status (0 for a transport failure) and the reason."""

    upstream_id: str
    status: int
    error: str
    will_retry: bool = False


class CircuitState(StrEnum):
    """Where an upstream's circuit breaker stands."""

    CLOSED = "closed"
    """Calls go through."""
    OPEN = "open"
    """Calls are refused until the breaker's wait is over."""
    HALF_OPEN = "half_open"
    """One probe call may go through; its result closes or reopens the breaker."""


class ClassifierState(StrEnum):
    """The embedding classifier's state."""

    IDLE = "idle"
    """Not asked to load yet."""
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    DISABLED = "disabled"
    """Not used: routing.mode is not smart (said by /health, never by the classifier)."""


@dataclass(frozen=True, kw_only=True)
class BreakerChanged(Event):
    """An upstream's circuit breaker moved to `state`."""

    upstream_id: str
    state: CircuitState
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ResponseFinished(Event):
    """The client's response is complete (or failed). `content` holds the answer's blocks in
    Anthropic shape (text and tool_use), or None in metadata-only recording."""

    status: int
    upstream_id: str
    route: str
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    error: str | None = None
    content: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class TranslationNote(Event):
    """Something a translation between client and upstream protocols could not carry (a
    thinking signature, a server tool, an audio part, ...); said once per request and kind."""

    upstream_id: str
    direction: str  # "anthropic->openai" | "openai->anthropic" (client -> upstream)
    note: str


@dataclass(frozen=True, kw_only=True)
class RequestCancelled(Event):
    """The client hung up before its response finished; its upstream work was cancelled."""

    reason: str = "client disconnected"


@dataclass(frozen=True, kw_only=True)
class SteeringApplied(Event):
    """A person (or a script) steered the core through its controls."""

    action: str
    target: str = ""
    value: str = ""
    source: str = "ui"


@dataclass(frozen=True, kw_only=True)
class ClassifierStateChanged(Event):
    """The embedding classifier's state: loading (with progress 0..1), ready, or failed."""

    state: ClassifierState
    model: str = ""
    device: str = ""
    progress: float | None = None
    error: str | None = None
