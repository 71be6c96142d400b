"""The router: which upstream serves a request."""

from __future__ import annotations

from dataclasses import dataclass

from fusion_tui.config import Settings
from fusion_tui.routing.explain import format_route


@dataclass(frozen=True)
class Route:
    """The decision for one request."""

    mode: str
    tier: str | None
    upstream_id: str
    header: str


class Router:
    """`single` mode: the first member of `pools.actor` serves every request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def choose(self) -> Route:
        """The route for the next request."""
        upstream_id = self.settings.pools.actor[0]
        mode = self.settings.routing.mode
        return Route(mode, None, upstream_id, format_route(mode, None, upstream_id))
