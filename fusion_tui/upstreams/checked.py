"""The one place a native upstream's success answer is checked against its protocol before
anything reads or relays it (protocols/answers.py says what is allowed): a 2xx body that is
not an answer of the protocol (an error object, another protocol's body, a list, HTML, SSE
sent to a non-stream request, nothing) or a stream event with a field of the wrong type is
a MALFORMED UpstreamError, so failover tries the next upstream and the breaker counts it.
A stream is passed on in whole frames only: a stream cut mid-event leaves its partial event
behind, so whatever the proxy writes after it starts on a frame boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from fusion_tui.protocols.answers import MalformedUpstream, check_answer, check_event
from fusion_tui.protocols.sse import (
    DONE,
    MalformedEvent,
    SSEEvent,
    SSEParser,
    checked_frames,
    event_object,
)
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import ErrorKind, UpstreamError, UpstreamReply

_BOUNDARIES = (b"\n\n", b"\r\n\r\n", b"\n\r\n", b"\r\n\n", b"\r\r")


def _last_boundary(data: bytes) -> int:
    """The index just after the last blank line in `data` (0 when there is none)."""
    if data[-2:] == b"\n\n":  # the usual chunk: whole events
        return len(data)
    return max((data.rfind(b) + len(b) for b in _BOUNDARIES if b in data), default=0)


async def checked_events(chunks: AsyncIterator[bytes], wire: Wire,
                         upstream_id: str) -> AsyncIterator[bytes]:
    """`chunks` in whole SSE frames, every event's data checked as `wire` allows
    (UpstreamError MALFORMED at the first bad one, before it is passed on). Bytes after the
    last complete frame when the stream ends are not passed on: a stream cut mid-event ends
    at its last whole event, and the reader says what is missing."""
    parser = SSEParser()
    held = b""
    sent = False
    done: list[tuple[SSEEvent, dict[str, Any] | None]] = []
    try:
        async for chunk in chunks:
            for event in parser.feed(chunk):
                if not event.data:
                    continue
                if event.data == DONE:
                    done.append((event, None))
                    continue
                try:
                    payload = event_object(event)
                    check_event(wire, event.event, payload)
                    done.append((event, payload))
                except MalformedEvent as exc:  # MalformedUpstream included
                    which = "event" if sent else "first event"
                    raise UpstreamError(f"{upstream_id}: malformed {which} ({wire} "
                                        f"stream): {exc}", kind=ErrorKind.MALFORMED) from exc
            data = held + chunk if held else chunk
            end = _last_boundary(data)
            if end:
                sent = True
                yield checked_frames(data[:end], done)
                done = []
            held = data[end:]
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def checked_reply(reply: UpstreamReply, wire: Wire, upstream_id: str) -> UpstreamReply:
    """`reply` with its success answer checked: a stream wrapped in `checked_events`, a body
    parsed and checked now (UpstreamError MALFORMED, the connection released, when it is not
    a `wire` answer). Error answers pass unchanged: they are read as errors."""
    if not reply.ok:
        return reply
    if reply.stream is not None:
        reply.stream = checked_events(reply.stream, wire, upstream_id)
        return reply
    raw = reply.body or b""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        await reply.close()
        shown = raw[:80].decode("utf-8", "replace")
        raise UpstreamError(f"{upstream_id}: answered HTTP {reply.status} with a body that is "
                            f"not JSON ({shown!r})" if raw else
                            f"{upstream_id}: answered HTTP {reply.status} with an empty body",
                            kind=ErrorKind.MALFORMED) from None
    try:
        check_answer(wire, parsed)
    except MalformedUpstream as exc:
        await reply.close()
        raise UpstreamError(f"{upstream_id}: answered HTTP {reply.status} with something that "
                            f"is not a {wire} answer: {exc}", kind=ErrorKind.MALFORMED) from exc
    reply.parsed = parsed
    return reply
