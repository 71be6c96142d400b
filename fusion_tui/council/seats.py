"""Who sits on a council: one seat per advisor. A seat is one upstream asked once, with an
optional temperature and perspective. Pool advisors sit under their upstream id;
self-consistency samples are one upstream asked N times, seated as `<upstream>#1` ...
`<upstream>#N` (upstream ids cannot contain `#`), each with its own temperature and
perspective."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fusion_tui.config.council import CouncilSettings, SelfConsistencySettings

SAMPLE_MARK = "#"


@dataclass(frozen=True)
class Seat:
    """One advisor seat: its name (panes, events, the route), the upstream it asks, and what
    makes its answer its own."""

    id: str
    upstream: str
    temperature: float | None = None
    perspective: str | None = None


def pool_seats(advisors: Sequence[str], settings: CouncilSettings) -> list[Seat]:
    """Seats for pool advisors: each upstream once, with its configured perspective."""
    return [Seat(a, a, None, settings.advisors[a].perspective
                 if a in settings.advisors else None) for a in advisors]


def sample_seats(upstream: str, cfg: SelfConsistencySettings) -> list[Seat]:
    """`cfg.samples` seats on one upstream; sample i takes temperature and perspective
    i mod the length of their lists (none where a list is empty)."""
    seats = []
    for i in range(cfg.samples):
        temperature = cfg.temperatures[i % len(cfg.temperatures)] if cfg.temperatures else None
        perspective = cfg.perspectives[i % len(cfg.perspectives)] if cfg.perspectives else None
        seats.append(Seat(f"{upstream}{SAMPLE_MARK}{i + 1}", upstream, temperature,
                          perspective))
    return seats


def seat_for(advisor: str | Seat, settings: CouncilSettings) -> Seat:
    """A seat as is, or a pool advisor's seat from its upstream id."""
    return advisor if isinstance(advisor, Seat) else pool_seats([advisor], settings)[0]
