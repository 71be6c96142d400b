"""Everything a request handler needs, in one object the app carries under a typed key."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from fusion_tui import __version__
from fusion_tui.config import Settings
from fusion_tui.events import Event, EventBus
from fusion_tui.routing import Router
from fusion_tui.upstreams import Upstream


@dataclass
class ProxyState:
    """The proxy's shared state: settings, the bus, the upstream clients and the router."""

    settings: Settings
    bus: EventBus
    upstreams: dict[str, Upstream]
    router: Router
    address: str = ""
    version: str = __version__
    started: float = field(default_factory=time.time)

    def publish(self, event: Event) -> None:
        """Publish an event (never blocks)."""
        self.bus.publish(event)

    @staticmethod
    def new_request_id() -> str:
        """A fresh request id."""
        return "req_" + uuid.uuid4().hex[:20]
