"""What every upstream client offers the core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fusion_tui.config import UpstreamSettings


class UpstreamError(Exception):
    """A call that failed before any answer: connection refused, timeout, a broken reply.

    `status` is 0 for transport failures; `retry_after_s` comes from a Retry-After header.
    """

    def __init__(self, message: str, status: int = 0, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


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
    protocol: str
    """The upstream's native wire protocol ("anthropic" or "openai"); the other one is
    served by translation."""

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Send an Anthropic Messages request; the reply is Anthropic JSON or SSE
        (`body["stream"]` decides the form), errors in Anthropic's shape."""
        ...

    async def chat_completions(self, body: dict[str, Any],
                               headers: Mapping[str, str]) -> UpstreamReply:
        """Send an OpenAI Chat Completions request; the reply is OpenAI JSON or SSE `data:`
        chunks ending `data: [DONE]`, errors in OpenAI's shape."""
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
