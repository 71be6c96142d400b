"""Everything a request handler needs, in one object the app carries under a typed key."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fusion_tui import __version__
from fusion_tui.config import Settings
from fusion_tui.config.prices import Pricing, prices_for
from fusion_tui.core.budget import Budgets
from fusion_tui.core.controls import Controls
from fusion_tui.council.costs import CostBook
from fusion_tui.council.hold import HoldDesk
from fusion_tui.council.savings import SpendLedger
from fusion_tui.events import BreakerChanged, Event, EventBus
from fusion_tui.routing import Router
from fusion_tui.routing.failover import CircuitBreakers
from fusion_tui.routing.stickiness import LastTurns
from fusion_tui.upstreams import Upstream

if TYPE_CHECKING:
    from fusion_tui.routing.gate import GateService


@dataclass
class ProxyState:
    """The proxy's shared state: settings, the bus, upstream clients, router, breakers,
    steering controls, the cost book, the hold desk and (smart routing) the gate."""

    settings: Settings
    bus: EventBus
    upstreams: dict[str, Upstream]
    router: Router
    gate: GateService | None = None
    address: str = ""
    version: str = __version__
    started: float = field(default_factory=time.time)
    hold_desk: HoldDesk = field(default_factory=HoldDesk)
    control_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """Who may watch and steer over HTTP (the runtime reads it from the token file)."""
    breakers: CircuitBreakers = field(init=False)
    controls: Controls = field(init=False)
    costs: CostBook = field(init=False)
    spend: SpendLedger = field(default_factory=SpendLedger)
    """Routed cost against the baseline, cache hit rates, tier shares (fed by publish)."""
    budgets: Budgets = field(init=False)
    last_turns: LastTurns = field(init=False)
    baseline_prices: dict[str, tuple[str, Pricing | None]] = field(default_factory=dict)
    """What `core.spend` priced each baseline model at (the settings do not change)."""

    def __post_init__(self) -> None:
        failover = self.settings.routing.failover
        self.breakers = CircuitBreakers(
            failover.breaker_threshold, failover.breaker_base_s, failover.breaker_max_s,
            on_change=lambda uid, state, reason: self.publish(
                BreakerChanged(upstream_id=uid, state=state, reason=reason)))
        self.controls = Controls([u.id for u in self.settings.upstreams], self.router.pins,
                                 self.publish, self.hold_desk, self.settings.council.hold)
        self.budgets = Budgets(self.settings.budget)
        self.last_turns = LastTurns(self.settings.routing.affinity_max_sessions)
        self.costs = CostBook(prices_for(self.settings.upstreams), self.publish)

    def publish(self, event: Event) -> None:
        """Publish an event (never blocks); the spend ledger and budgets count it first."""
        self.spend.apply(event)
        self.budgets.apply(event)
        self.bus.publish(event)

    @staticmethod
    def new_request_id() -> str:
        """A fresh request id."""
        return "req_" + os.urandom(10).hex()
