"""The engine's side of the socket: what a turn asks the HTTP layer to do for one client.

The engine decides what must reach the client and in which order; the server implements
`Client` and does the IO (sans-IO in the spirit of mitmproxy's proxy layers: commands out,
results in). A test implements it with a list of what was sent."""

from __future__ import annotations

from typing import Protocol

from fusion_tui.core.engine.outcome import Outcome
from fusion_tui.upstreams import UpstreamReply


class Client(Protocol):
    """One client connection, as the engine sees it."""

    async def open(self, headers: dict[str, str], opening: bytes) -> None:
        """Start a streamed answer now: status 200, `headers`, then `opening` (the
        protocol's first events), before the answer itself exists."""
        ...

    async def write(self, data: bytes) -> None:
        """Write `data` into the stream started by `open` (or by a relay)."""
        ...

    async def end(self) -> None:
        """End the started stream."""
        ...

    async def relay(self, reply: UpstreamReply, headers: dict[str, str], stream: bool,
                    started: float) -> Outcome:
        """Pass the upstream's reply to the client: into the stream `open` started
        (re-framed), else as a stream of its own when the client asked for one and the reply
        is one, else as one body. Returns what the client received."""
        ...

    def fail(self, status: int, message: str, headers: dict[str, str]) -> None:
        """Answer with an error body in the client's protocol (nothing was sent yet)."""
        ...

    def add_header(self, name: str, value: str) -> None:
        """Add a header to the answer not sent yet (a body answer)."""
        ...

    def stream_started(self) -> bool:
        """Whether a stream has reached the client (started by `open` or by a relay), so an
        error now must go inside it; `write` and `end` then address that stream."""
        ...

    async def send(self) -> None:
        """Send a complete answer now rather than when the handler returns, so the turn's
        reporting happens after the client has its answer."""
        ...
