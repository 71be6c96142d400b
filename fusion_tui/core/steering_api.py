"""What a dashboard may read and do to steer a proxy, whichever side of a process boundary
the proxy is on: `Controls` (in the same process, acts apply at once and return None) and
`fusion_tui.remote.controls.RemoteControls` (over HTTP, acts return an awaitable that raises
`SteeringError` when the proxy refuses) both fit it."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Protocol

from fusion_tui.core.controls import InFlight, SessionSteering

Act = Awaitable[None] | None
"""None when the act was applied at once; an awaitable when it is on its way."""


class PinLookup(Protocol):
    """Which actor a session is pinned to."""

    def get(self, session_id: str) -> str | None:
        """The pinned actor, None when the session has none."""


class HeldBriefings(Protocol):
    """The briefings held for a person, and whether a person is watching."""

    attached: bool

    @property
    def pending(self) -> dict[str, str]:
        """Held request ids and their briefing text."""


class SteeringControls(Protocol):
    """The state a dashboard shows and the acts its keys call (see `Controls`)."""

    @property
    def upstream_ids(self) -> set[str]:
        """Every configured upstream."""

    @property
    def sessions(self) -> Mapping[str, SessionSteering]:
        """What a person set, per session."""

    @property
    def muted_globally(self) -> set[str]:
        """Advisors muted everywhere."""

    @property
    def council_globally(self) -> bool | None:
        """Councils on/off everywhere (None: as configured)."""

    @property
    def hold_mode(self) -> str:
        """off | plan | always."""

    @property
    def pins(self) -> PinLookup:
        """Session -> actor pins."""

    @property
    def inflight(self) -> Mapping[str, InFlight]:
        """Requests being served, by request id."""

    @property
    def hold_desk(self) -> HeldBriefings:
        """Held briefings."""

    def council_enabled(self, session_id: str, configured: bool) -> bool:
        """Whether councils may convene for this session."""

    def force_next_tier(self, session_id: str, tier: str, source: str = "ui") -> Act:
        """Route the session's next request at `tier`, once."""

    def lock_tier(self, session_id: str, tier: str | None, source: str = "ui") -> Act:
        """Route every request of the session at `tier` (None: unlock)."""

    def swap_actor(self, session_id: str, upstream_id: str, source: str = "ui") -> Act:
        """Make `upstream_id` the session's actor."""

    def pin(self, session_id: str, upstream_id: str, source: str = "ui") -> Act:
        """Pin the session to an actor."""

    def unpin(self, session_id: str, source: str = "ui") -> Act:
        """Forget the session's pin."""

    def mute_advisor(self, advisor: str, muted: bool = True, session_id: str | None = None,
                     source: str = "ui") -> Act:
        """Leave an advisor out of councils (or back in)."""

    def add_advisor(self, advisor: str, session_id: str | None = None,
                    source: str = "ui") -> Act:
        """Seat any configured upstream on the council."""

    def remove_advisor(self, advisor: str, session_id: str | None = None,
                       source: str = "ui") -> Act:
        """Undo an addition or replacement."""

    def replace_advisor(self, advisor: str, by: str, session_id: str | None = None,
                        source: str = "ui") -> Act:
        """`by` sits where `advisor` sat."""

    def set_judge(self, judge: str | None, session_id: str | None = None,
                  source: str = "ui") -> Act:
        """The judge (None: the configured pool)."""

    def set_perspective(self, advisor: str, perspective: str | None,
                        session_id: str | None = None, source: str = "ui") -> Act:
        """An advisor's stance (None: the configured one)."""

    def set_council(self, enabled: bool | None, session_id: str | None = None,
                    source: str = "ui") -> Act:
        """Councils on/off for a session or everywhere."""

    def set_hold(self, mode: str, source: str = "ui") -> Act:
        """Hold-before-act: off | plan | always."""

    def decide_briefing(self, request_id: str, decision: str, text: str | None = None,
                        source: str = "ui") -> Act:
        """Approve, edit (with `text`) or skip a held briefing."""

    def drop(self, request_id: str, source: str = "ui") -> Act:
        """Cancel an in-flight request."""
