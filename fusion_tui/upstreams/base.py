"""What every upstream client offers the core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.wire import Wire


class ErrorKind(StrEnum):
    """Why an upstream call failed: decides the status the client gets, never the text."""

    TIMEOUT = "timeout"
    """No answer (or no next byte) within the upstream's timeout: 504."""
    REFUSED = "refused"
    """The connection could not be made or was reset before an answer: 502."""
    CUT = "cut"
    """The answer started and broke off (a cut body or stream): 502."""
    MALFORMED = "malformed"
    """The answer is not what the protocol allows (bad event, empty stream): 502."""
    STALLED = "stalled"
    """The answer started, then no byte came within the timeout: 502 (it did answer)."""
    OVERLOADED = "overloaded"
    """The upstream said it is overloaded (503/529): 529, which clients retry."""
    STATUS = "status"
    """The upstream answered with another HTTP error status: that status."""


OVERLOADED_STATUSES = frozenset({503, 529})


class UpstreamError(Exception):
    """A call that failed before any answer: connection refused, timeout, a broken reply.

    `status` is 0 for transport failures; `retry_after_s` comes from a Retry-After header;
    `kind` says what went wrong (derived from `status` when not given: an error status, else
    a refused connection).
    """

    def __init__(self, message: str, status: int = 0, retry_after_s: float | None = None,
                 kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s
        self.kind = kind or (ErrorKind.OVERLOADED if status in OVERLOADED_STATUSES
                             else ErrorKind.STATUS if status else ErrorKind.REFUSED)

    def http_status(self) -> int:
        """The status a client gets for this failure when nothing was sent yet."""
        if self.status:
            return self.status
        return {ErrorKind.TIMEOUT: 504, ErrorKind.OVERLOADED: 529}.get(self.kind, 502)


class ClientBody(dict[str, Any]):
    """A client's request body as parsed, that remembers the bytes it was parsed from
    (`raw`), so an upstream it passes through unchanged gets those bytes instead of the body
    serialised again. A copy (`dict(body)`, `{**body}`) is a plain dict; changing the body
    itself forgets the bytes (`raw` becomes None), so they never say something else."""

    __slots__ = ("raw",)

    def __init__(self, parsed: dict[str, Any], raw: bytes) -> None:
        super().__init__(parsed)
        self.raw: bytes | None = raw

    def _changed(self) -> None:
        self.raw = None

    def __setitem__(self, key: str, value: Any) -> None:
        self._changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._changed()
        super().__delitem__(key)

    def __ior__(self, other: Any) -> ClientBody:  # type: ignore[override,misc]
        self._changed()
        return super().__ior__(other)

    def pop(self, *args: Any) -> Any:
        """dict.pop (forgets the bytes)."""
        self._changed()
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        """dict.popitem (forgets the bytes)."""
        self._changed()
        return super().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        """dict.setdefault (forgets the bytes)."""
        self._changed()
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """dict.update (forgets the bytes)."""
        self._changed()
        super().update(*args, **kwargs)

    def clear(self) -> None:
        """dict.clear (forgets the bytes)."""
        self._changed()
        super().clear()


def wire_bytes(body: dict[str, Any]) -> bytes:
    """`body` as JSON to send: the client's own bytes when it passes through unchanged
    (a `ClientBody` nobody changed), else serialised."""
    raw = body.raw if type(body) is ClientBody else None
    return raw if raw is not None else orjson.dumps(body)


@dataclass
class UpstreamReply:
    """An upstream's answer in its own wire protocol.

    Exactly one of `body` (a complete answer or an error) and `stream` (raw SSE bytes, in
    the order they arrived) is set. `close()` releases the connection early. `notes` lists
    what a translation between protocols could not carry; a translated stream adds to it as
    it goes, so read it after the stream ends.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    stream: AsyncIterator[bytes] | None = None
    _release: Any = None
    notes: list[str] = field(default_factory=list)
    parsed: Any = None
    """`body` parsed, once it was checked as an answer (so a relay need not parse it again);
    None when nobody parsed it."""

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300

    async def close(self) -> None:
        """Release the underlying connection (safe to call twice)."""
        if self._release is not None:
            release, self._release = self._release, None
            release()


class Upstream(Protocol):
    """One configured model endpoint."""

    settings: UpstreamSettings
    protocol: Wire
    """The upstream's native wire protocol; the other two are served by translation
    (upstreams/translated*.py)."""

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Send an Anthropic Messages request; the reply is Anthropic JSON or SSE
        (`body["stream"]` decides the form), errors in Anthropic's shape."""
        ...

    async def chat_completions(self, body: dict[str, Any],
                               headers: Mapping[str, str]) -> UpstreamReply:
        """Send an OpenAI Chat Completions request; the reply is OpenAI JSON or SSE `data:`
        chunks ending `data: [DONE]`, errors in OpenAI's shape."""
        ...

    async def responses(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Send an OpenAI Responses request; the reply is a Responses object or its SSE
        events (`response.completed` last), errors in OpenAI's shape."""
        ...

    async def list_models(self) -> list[str]:
        """Model names the upstream offers (empty where it cannot say)."""
        ...

    async def count_tokens(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Count the tokens of a Messages request."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
