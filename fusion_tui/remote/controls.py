"""`RemoteControls`: the dashboard's steering interface (`SteeringControls`) for a proxy in
another process. What the dashboard reads is a mirror: the proxy's steering state fetched
over HTTP (again after every steering act seen on the event stream) and the requests in
flight and held briefings folded from the events. Acts are HTTP calls; each returns an
awaitable that raises `SteeringError` with the proxy's reason when it refuses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from fusion_tui.core.controls import (
    CouncilPlan,
    InFlight,
    SessionSteering,
    SteeringError,
)
from fusion_tui.events import (
    Event,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    SessionPinned,
    SteeringApplied,
)
from fusion_tui.events.council import BriefingDecided, BriefingHeld
from fusion_tui.remote.link import ProxyLink, ProxyUnreachable


class MirrorPins:
    """Pins as the proxy last said."""

    def __init__(self) -> None:
        self.pins: dict[str, str] = {}

    def get(self, session_id: str) -> str | None:
        """The pinned actor."""
        return self.pins.get(session_id)


class MirrorHolds:
    """Held briefings as the events said."""

    def __init__(self) -> None:
        self.attached = False
        self.held: dict[str, str] = {}

    @property
    def pending(self) -> dict[str, str]:
        """Held request ids and their text."""
        return dict(self.held)


def _plan(data: Any) -> CouncilPlan:
    if not isinstance(data, dict):
        return CouncilPlan()
    return CouncilPlan(added=list(data.get("added") or []),
                       replaced=dict(data.get("replaced") or {}), judge=data.get("judge"),
                       perspectives=dict(data.get("perspectives") or {}))


class RemoteControls:
    """Steering a proxy over HTTP through `link`; call `observe` with every event from its
    stream and `refresh` once connected."""

    def __init__(self, link: ProxyLink, upstream_ids: set[str] | None = None) -> None:
        self.link = link
        self.upstream_ids: set[str] = set(upstream_ids or ())
        self.sessions: dict[str, SessionSteering] = {}
        self.muted_globally: set[str] = set()
        self.council_globally: bool | None = None
        self.council_configured = True
        self.composition_globally = CouncilPlan()
        self.hold_mode = "off"
        self.pins = MirrorPins()
        self.inflight: dict[str, InFlight] = {}
        self.hold_desk = MirrorHolds()
        self.refreshes = 0
        self._refresh: asyncio.Task[None] | None = None

    # --- the mirror ------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Fetch the proxy's steering state."""
        data = await self.link.steering()
        self.upstream_ids = set(data.get("upstreams") or self.upstream_ids)
        self.sessions = {
            sid: SessionSteering(next_tier=s.get("next_tier"), locked_tier=s.get("locked_tier"),
                                 actor=s.get("actor"), muted=set(s.get("muted") or ()),
                                 council=s.get("council"), composition=_plan(s.get("composition")))
            for sid, s in (data.get("sessions") or {}).items()}
        self.muted_globally = set(data.get("muted_globally") or ())
        self.council_globally = data.get("council_globally")
        self.council_configured = bool(data.get("council_configured", True))
        self.composition_globally = _plan(data.get("composition_globally"))
        self.hold_mode = str(data.get("hold_mode") or "off")
        self.pins.pins = dict(data.get("pins") or {})
        self.inflight = {rid: InFlight(str(sid), None)
                         for rid, sid in (data.get("inflight") or {}).items()}
        self.hold_desk.held = dict(data.get("held") or {})
        self.refreshes += 1

    def _refresh_soon(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            return
        try:
            self._refresh = asyncio.get_running_loop().create_task(self._quiet_refresh())
        except RuntimeError:
            pass  # no loop (a test folding events by hand): the next act refreshes

    async def _quiet_refresh(self) -> None:
        try:
            await self.refresh()
        except (ProxyUnreachable, SteeringError):
            pass  # the event stream says the link is down; the next connect refreshes

    def reset(self) -> None:
        """The proxy restarted: nothing of the old one is in flight or held."""
        self.inflight.clear()
        self.hold_desk.held.clear()
        self._refresh_soon()

    def observe(self, event: Event) -> None:
        """Fold one event from the stream (a bus listener)."""
        if isinstance(event, RequestReceived):
            self.inflight[event.request_id] = InFlight(event.session_id, None)
        elif isinstance(event, (ResponseFinished, RequestCancelled)):
            self.inflight.pop(event.request_id, None)
            self.hold_desk.held.pop(event.request_id, None)
        elif isinstance(event, BriefingHeld):
            self.hold_desk.held[event.request_id] = event.text
        elif isinstance(event, BriefingDecided):
            self.hold_desk.held.pop(event.request_id, None)
        elif isinstance(event, SessionPinned):
            self.pins.pins[event.session_id] = event.upstream_id
        elif isinstance(event, SteeringApplied):
            self._refresh_soon()

    def council_enabled(self, session_id: str, configured: bool) -> bool:
        """Whether councils may convene for this session (as last mirrored)."""
        steering = self.sessions.get(session_id)
        if steering is not None and steering.council is not None:
            return steering.council
        return configured if self.council_globally is None else self.council_globally

    # --- acts --------------------------------------------------------------------------------

    def _act(self, act: str, **args: Any) -> Coroutine[Any, Any, None]:
        async def call() -> None:
            try:
                await self.link.steer(act, **args)
            except ProxyUnreachable as exc:
                raise SteeringError(str(exc)) from exc
            await self._quiet_refresh()

        return call()

    def force_next_tier(self, session_id: str, tier: str,
                        source: str = "ui") -> Awaitable[None]:
        """Route the session's next request at `tier`, once."""
        return self._act("force_tier", session=session_id, tier=tier)

    def lock_tier(self, session_id: str, tier: str | None,
                  source: str = "ui") -> Awaitable[None]:
        """Lock the session at `tier` (None: auto)."""
        return self._act("lock_tier", session=session_id, tier=tier)

    def swap_actor(self, session_id: str, upstream_id: str,
                   source: str = "ui") -> Awaitable[None]:
        """Make `upstream_id` the session's actor."""
        return self._act("swap_actor", session=session_id, upstream=upstream_id)

    def pin(self, session_id: str, upstream_id: str, source: str = "ui") -> Awaitable[None]:
        """Pin the session to an actor."""
        return self._act("pin", session=session_id, upstream=upstream_id)

    def unpin(self, session_id: str, source: str = "ui") -> Awaitable[None]:
        """Forget the session's pin."""
        return self._act("unpin", session=session_id)

    def mute_advisor(self, advisor: str, muted: bool = True, session_id: str | None = None,
                     source: str = "ui") -> Awaitable[None]:
        """Leave an advisor out of councils (or back in)."""
        return self._act("mute_advisor", advisor=advisor, muted=muted, session=session_id)

    def add_advisor(self, advisor: str, session_id: str | None = None,
                    source: str = "ui") -> Awaitable[None]:
        """Seat an upstream on the council."""
        return self._act("add_advisor", advisor=advisor, session=session_id)

    def remove_advisor(self, advisor: str, session_id: str | None = None,
                       source: str = "ui") -> Awaitable[None]:
        """Undo an addition or replacement."""
        return self._act("remove_advisor", advisor=advisor, session=session_id)

    def replace_advisor(self, advisor: str, by: str, session_id: str | None = None,
                        source: str = "ui") -> Awaitable[None]:
        """`by` sits where `advisor` sat."""
        return self._act("replace_advisor", advisor=advisor, by=by, session=session_id)

    def set_judge(self, judge: str | None, session_id: str | None = None,
                  source: str = "ui") -> Awaitable[None]:
        """The judge (None: the configured pool)."""
        return self._act("set_judge", judge=judge, session=session_id)

    def set_perspective(self, advisor: str, perspective: str | None,
                        session_id: str | None = None,
                        source: str = "ui") -> Awaitable[None]:
        """An advisor's stance."""
        return self._act("set_perspective", advisor=advisor, perspective=perspective,
                         session=session_id)

    def set_council(self, enabled: bool | None, session_id: str | None = None,
                    source: str = "ui") -> Awaitable[None]:
        """Councils on/off for a session or everywhere."""
        return self._act("set_council", enabled=enabled, session=session_id)

    def set_hold(self, mode: str, source: str = "ui") -> Awaitable[None]:
        """Hold-before-act mode."""
        return self._act("set_hold", mode=mode)

    def decide_briefing(self, request_id: str, decision: str, text: str | None = None,
                        source: str = "ui") -> Awaitable[None]:
        """Approve, edit or skip a held briefing."""
        return self._act("decide_briefing", request=request_id, decision=decision, text=text)

    def drop(self, request_id: str, source: str = "ui") -> Awaitable[None]:
        """Cancel an in-flight request."""
        return self._act("drop", request=request_id)
