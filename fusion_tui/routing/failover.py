"""Failover: try the next candidate on failures that another upstream might not have, honour
Retry-After, and keep a circuit breaker per upstream so a dead one is skipped quickly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from fusion_tui.events.model import CircuitState
from fusion_tui.protocols.errors import parse_retry_after
from fusion_tui.protocols.sse import (
    DONE,
    CheckedFrames,
    MalformedEvent,
    event_object,
    first_data_event,
)
from fusion_tui.upstreams.base import ErrorKind, UpstreamError, UpstreamReply

# Failures another upstream (or a later try) may not have.
RETRYABLE = frozenset({0, 408, 409, 429}) | frozenset(range(500, 600))
# Failures specific to this upstream's account or model: worth trying another member, never
# worth retrying the same one.
NEXT_ONLY = frozenset({401, 403, 404})


@dataclass
class BreakerState:
    """One upstream's breaker."""

    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    open_for_s: float = 0.0
    trips: int = 0
    last_error: str = ""
    probe_since: float | None = None
    """When the half-open breaker's one probe was let through (None: no probe out)."""


class CircuitBreakers:
    """Per-upstream breakers: open after `threshold` consecutive failures, stay open for a
    back-off that doubles with each trip (capped), then let one probe through (half-open):
    every other call is refused until the probe's outcome closes or reopens the breaker. A
    probe whose outcome never comes (a cancelled request, a caller that only filtered) stops
    blocking after the current back-off period, and one more probe goes."""

    def __init__(self, threshold: int = 3, base_s: float = 5.0, max_s: float = 120.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[str, CircuitState, str], None] | None = None) -> None:
        self.threshold = threshold
        self.base_s = base_s
        self.max_s = max_s
        self.clock = clock
        self.on_change = on_change
        self.states: dict[str, BreakerState] = {}

    def _get(self, upstream_id: str) -> BreakerState:
        return self.states.setdefault(upstream_id, BreakerState())

    def _set(self, upstream_id: str, breaker: BreakerState, state: CircuitState,
             reason: str) -> None:
        if breaker.state != state:
            breaker.state = state
            if self.on_change:
                self.on_change(upstream_id, state, reason)

    def allows(self, upstream_id: str) -> bool:
        """Whether a call may go to this upstream now. Moves open -> half_open when due, and
        a True from a half-open breaker is its one probe: the caller is expected to call it
        and report the outcome (`record_success`, `record_failure` or `release_probe`)."""
        breaker = self._get(upstream_id)
        now = self.clock()
        if breaker.state == CircuitState.OPEN:
            if now - breaker.opened_at < breaker.open_for_s:
                return False
            self._set(upstream_id, breaker, CircuitState.HALF_OPEN, "probe due")
        if breaker.state == CircuitState.HALF_OPEN:
            if (breaker.probe_since is not None
                    and now - breaker.probe_since < max(breaker.open_for_s, self.base_s)):
                return False
            breaker.probe_since = now
        return True

    def release_probe(self, upstream_id: str) -> None:
        """The probe ended in an answer that says nothing about the upstream's health (a
        client error relayed, an auth refusal): the next call may probe again."""
        self._get(upstream_id).probe_since = None

    def record_success(self, upstream_id: str) -> None:
        """A call succeeded: close the breaker."""
        breaker = self._get(upstream_id)
        breaker.failures = 0
        breaker.probe_since = None
        if breaker.state != CircuitState.CLOSED:
            breaker.trips = 0
            self._set(upstream_id, breaker, CircuitState.CLOSED, "call succeeded")

    def record_failure(self, upstream_id: str, error: str,
                       retry_after_s: float | None = None) -> None:
        """A call failed; open the breaker after enough failures, or at once if half-open or
        the upstream asked for a pause (Retry-After)."""
        breaker = self._get(upstream_id)
        breaker.failures += 1
        breaker.last_error = error
        breaker.probe_since = None
        if (breaker.state == CircuitState.HALF_OPEN or breaker.failures >= self.threshold
                or retry_after_s is not None):
            backoff = min(self.max_s, self.base_s * (2 ** breaker.trips))
            breaker.trips += 1
            breaker.opened_at = self.clock()
            breaker.open_for_s = max(backoff, retry_after_s or 0.0)
            if breaker.state == CircuitState.OPEN:
                return
            self._set(upstream_id, breaker, CircuitState.OPEN, error)

    def snapshot(self) -> dict[str, dict[str, object]]:
        """State of every breaker, for /health and the dashboard."""
        now = self.clock()
        return {uid: {"state": b.state, "failures": b.failures, "last_error": b.last_error,
                      "retry_in_s": round(max(0.0, b.opened_at + b.open_for_s - now), 1)
                      if b.state == CircuitState.OPEN else 0.0}
                for uid, b in self.states.items()}


@dataclass
class Attempt:
    """One try: which upstream, the status (0: transport) and the error."""

    upstream_id: str
    status: int
    error: str
    retry_after_s: float | None = None


@dataclass
class FailoverResult:
    """The reply that will be relayed (or the last failure), who gave it, and the tries."""

    upstream_id: str
    reply: UpstreamReply | None
    attempts: list[Attempt] = field(default_factory=list)
    error: UpstreamError | None = None

    @property
    def failed_over(self) -> bool:
        """True if someone other than the first choice answered successfully."""
        return bool(self.attempts) and self.reply is not None and self.reply.ok


Call = Callable[[str], Awaitable[UpstreamReply]]
OnFailure = Callable[[Attempt, bool], None]


async def close_reply(reply: UpstreamReply) -> None:
    """Release a reply's connection and close its stream, so no half-read generator is left
    for the garbage collector to finish later."""
    stream = reply.stream
    await reply.close()
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


async def _peek(reply: UpstreamReply) -> UpstreamReply:
    """Wait for a stream's first event, so a stream that dies at once or opens with data that
    is not a JSON object can still fail over (MalformedEvent, StopAsyncIteration or
    UpstreamError). What was read is put back in front; nothing has gone to the client yet."""
    assert reply.stream is not None
    stream = reply.stream
    head: list[bytes] = []
    while True:
        chunk = await stream.__anext__()
        head.append(chunk)
        if isinstance(chunk, CheckedFrames):  # parsed and checked already: no second parse
            if any(event.data for event, _ in chunk.events):
                break
            continue
        first = first_data_event(b"".join(head))
        if first is not None:
            if first.data != DONE:
                event_object(first)  # the rest is judged by the relay as it goes out
            break
    reply.stream = _Rejoined(head, stream)
    return reply


class _Rejoined:
    """The peeked chunks, then the rest of the stream. Past the head, `__anext__` hands out
    the stream's own awaitable: no extra generator between every chunk and the relay."""

    def __init__(self, head: list[bytes], stream: AsyncIterator[bytes]) -> None:
        self._head = head
        self._stream = stream

    def __aiter__(self) -> _Rejoined:
        return self

    def __anext__(self) -> Awaitable[bytes]:
        if self._head:
            return _ready(self._head.pop(0))
        return self._stream.__anext__()

    async def aclose(self) -> None:
        """Close the stream underneath."""
        self._head = []
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def _ready(chunk: bytes) -> bytes:
    return chunk


async def _attempt(upstream_id: str, call: Call
                   ) -> tuple[UpstreamReply | None, UpstreamError | None]:
    """One call, its stream peeked: (the reply, None) or (None, why it failed)."""
    try:
        reply = await call(upstream_id)
    except UpstreamError as exc:
        return None, exc
    if not (reply.ok and reply.stream is not None):
        return reply, None
    try:
        return await _peek(reply), None
    except StopAsyncIteration:
        error = UpstreamError(f"{upstream_id}: stream ended before any event",
                              kind=ErrorKind.CUT)
    except UpstreamError as exc:
        error = exc
    except MalformedEvent as exc:
        error = UpstreamError(f"{upstream_id}: malformed first event: {exc}",
                              kind=ErrorKind.MALFORMED)
    await close_reply(reply)
    return None, error


async def call_with_failover(candidates: list[str], call: Call, breakers: CircuitBreakers, *,
                             max_retry_wait_s: float = 5.0,
                             on_failure: OnFailure | None = None) -> FailoverResult:
    """Try candidates in order until one answers with something worth relaying.

    Skips upstreams whose breaker is open (unless every one is). A 401/403/404 moves to the
    next member but is relayed if it was the last. A retryable failure on the last member is
    retried once after its Retry-After when that is at most `max_retry_wait_s`. A stream
    counts as an answer once its first event has arrived and is well-formed.
    """
    allowed = [c for c in candidates if breakers.allows(c)] or list(candidates[:1])
    attempts: list[Attempt] = []
    last_reply: UpstreamReply | None = None
    last_error: UpstreamError | None = None
    queue = list(allowed)
    retried_last = False
    while queue:
        upstream_id = queue.pop(0)
        is_last = not queue
        reply, error = await _attempt(upstream_id, call)
        if error is not None or reply is None:
            assert error is not None
            attempt = Attempt(upstream_id, error.status, str(error), error.retry_after_s)
            last_error, last_reply = error, None
        else:
            if reply.ok:
                breakers.record_success(upstream_id)
                return FailoverResult(upstream_id, reply, attempts)
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
            attempt = Attempt(upstream_id, reply.status, f"HTTP {reply.status}", retry_after)
            if reply.status not in RETRYABLE and (reply.status not in NEXT_ONLY or is_last):
                # A client error every upstream would repeat, or the last member's refusal:
                # relay it as it is.
                breakers.release_probe(upstream_id)
                return FailoverResult(upstream_id, reply, attempts)
            last_reply, last_error = reply, None
        attempts.append(attempt)
        if attempt.status not in NEXT_ONLY:
            breakers.record_failure(upstream_id, attempt.error, attempt.retry_after_s)
        else:
            breakers.release_probe(upstream_id)
        will_retry = bool(queue)
        wait = attempt.retry_after_s
        if (is_last and not retried_last and attempt.status in RETRYABLE
                and wait is not None and wait <= max_retry_wait_s):
            will_retry, retried_last = True, True
            queue.append(upstream_id)
        if on_failure:
            on_failure(attempt, will_retry)
        if will_retry and last_reply is not None:
            await last_reply.close()
        if is_last and will_retry and wait:
            await asyncio.sleep(wait)
    final = attempts[-1].upstream_id if attempts else candidates[0]
    return FailoverResult(final, last_reply, attempts, last_error)

