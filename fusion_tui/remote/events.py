"""A running proxy's events, read from its `/fusion/events` stream and published on a local
bus, so the dashboard's bridge feeds the screens as it does for the proxy in its own process
(or for a replay). Reconnects on its own: it resumes after the last event it got, and says
so when the proxy restarted or events were lost.

Each event frame's `id` is its position in the proxy's publish order (1, 2, 3, ...). The
reader publishes an event only when its position is past the last one it published: every
event once, in the proxy's order, however a reconnect or the replay buffer overlaps what came
before."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp
import orjson

from fusion_tui.events import EventBus
from fusion_tui.events.codec import decode_event
from fusion_tui.protocols.sse import SSEEvent, SSEParser
from fusion_tui.remote.link import ProxyLink

RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits between reconnection attempts (the last one repeats)."""

READ_TIMEOUT_S = 45.0
"""No byte for this long (the proxy sends a keep-alive every 15 s): the link is dead."""


class LinkState(StrEnum):
    """Where the event stream stands."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    REFUSED = "refused"


@dataclass(frozen=True)
class LinkStatus:
    """The stream's state, why (for people), and how many attempts failed in a row."""

    state: LinkState
    detail: str = ""
    attempt: int = 0


class RemoteEvents:
    """Reads the proxy's event stream into `bus` until cancelled.

    `on_status` hears every change of the link's state; `on_notice` hears what a person
    should know (the proxy restarted, events were missed); `on_restart` is called when the
    events seen so far belong to a proxy that is gone."""

    def __init__(self, link: ProxyLink, bus: EventBus,
                 on_status: Callable[[LinkStatus], None] = lambda s: None,
                 on_notice: Callable[[str], None] = lambda s: None,
                 on_restart: Callable[[], None] = lambda: None,
                 retry_s: tuple[float, ...] = RETRY_S) -> None:
        self.link = link
        self.bus = bus
        self.on_status = on_status
        self.on_notice = on_notice
        self.on_restart = on_restart
        self.retry_s = retry_s
        self.last_id = 0
        """The stream position of the last event published (0: none yet)."""
        self.boot: str | None = None
        self.received = 0
        self.undecodable = 0
        self.duplicates = 0
        """Event frames at or before `last_id` (sent again), not published again."""
        self._parser = SSEParser()
        self.connects = 0
        self.status = LinkStatus(LinkState.CONNECTING, link.url)

    def _set(self, status: LinkStatus) -> None:
        self.status = status
        self.on_status(status)

    async def run(self) -> None:
        """Read, reconnect, read again, until cancelled."""
        failures = 0
        while True:
            try:
                await self._read_once()
                reason = "the proxy closed the stream"
            except aiohttp.ClientResponseError as exc:
                reason = f"HTTP {exc.status}: {exc.message}"
                if exc.status == 401:
                    self._set(LinkStatus(LinkState.REFUSED, "the proxy refused the control "
                                         "token (see docs/attach.md)", failures + 1))
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if self.status.state is LinkState.LIVE:
                failures = 0
            failures += 1
            if self.status.state is not LinkState.REFUSED:
                self._set(LinkStatus(LinkState.RECONNECTING, reason, failures))
            await asyncio.sleep(self.retry_s[min(failures - 1, len(self.retry_s) - 1)])

    async def _read_once(self) -> None:
        params: dict[str, Any] = {}
        if self.last_id:
            params["after"] = str(self.last_id)
        if self.boot:
            params["boot"] = self.boot
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=READ_TIMEOUT_S)
        async with self.link.http().get(self.link.url + "/fusion/events", params=params,
                                        timeout=timeout) as resp:
            if resp.status != 200:
                body = (await resp.read())[:300]
                with contextlib.suppress(ValueError, AttributeError, TypeError):
                    body = orjson.loads(body)["error"]["message"].encode()
                raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status,
                                                  message=body.decode("utf-8", "replace"))
            self._parser = SSEParser()  # a frame cut by the last connection is gone
            async for chunk in resp.content.iter_any():
                self.feed(chunk)

    def feed(self, chunk: bytes) -> None:
        """Take bytes of the stream: publish the events they complete (sans IO).
        ValueError when an event frame has no stream position (not a fusion-tui stream)."""
        for sse in self._parser.feed(chunk):
            self._handle(sse)

    def _handle(self, sse: SSEEvent) -> None:
        if sse.event == "hello":
            hello = sse.json()
            boot = str(hello.get("boot", ""))
            if self.boot is not None and boot != self.boot:
                self.on_notice("the proxy restarted: showing the new one's events")
                self.on_restart()
                self.last_id = 0
            self.boot = boot
            self.connects += 1
            self._set(LinkStatus(LinkState.LIVE, self.link.url))
            return
        if sse.event == "gap":
            gap = sse.json()
            if gap.get("reason") == "the proxy restarted":
                return  # said with the hello that came before
            self.on_notice(f"missed events after #{gap.get('after')} (up to "
                           f"#{gap.get('missed_upto')}): {gap.get('reason')}")
            return
        try:
            position = int(sse.id)
        except ValueError:
            raise ValueError(f"a {sse.event or 'message'} frame without a stream position "
                             f"(id {sse.id!r}): not a fusion-tui event stream") from None
        if position <= self.last_id:
            self.duplicates += 1  # already published: a resume or a replay sent it again
            return
        self.last_id = position
        try:
            event = decode_event(sse.json())
        except (KeyError, TypeError, ValueError):
            self.undecodable += 1  # a newer proxy's event kind: the dashboard cannot show it
            return
        self.received += 1
        self.bus.publish(event)
