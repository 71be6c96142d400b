"""The steering API: everything a person (the dashboard, or a script) can do to the running
core. Every act publishes `SteeringApplied` and shows in the next route's reason."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fusion_tui.council.hold import HoldDesk
from fusion_tui.events import Event, SteeringApplied
from fusion_tui.routing.router import TIERS, PinTable

HOLD_MODES = ("off", "plan", "always")


class SteeringError(ValueError):
    """A steering act that cannot be applied (unknown upstream, no such request, ...)."""


@dataclass
class SessionSteering:
    """What a person set for one session."""

    next_tier: str | None = None
    locked_tier: str | None = None
    actor: str | None = None
    muted: set[str] = field(default_factory=set)
    council: bool | None = None
    note: str | None = None


@dataclass
class InFlight:
    """A request being served: its session and the task serving it."""

    session_id: str
    task: asyncio.Task[object] | None
    dropped: bool = False


class Controls:
    """Steering state and acts. The request pipeline reads the state; the dashboard acts."""

    def __init__(self, upstream_ids: Iterable[str], pins: PinTable,
                 publish: Callable[[Event], None], hold_desk: HoldDesk,
                 hold_mode: str = "off") -> None:
        self.upstream_ids = set(upstream_ids)
        self.pins = pins
        self.publish = publish
        self.hold_desk = hold_desk
        self.hold_mode = hold_mode
        self.sessions: dict[str, SessionSteering] = {}
        self.muted_globally: set[str] = set()
        self.council_globally: bool | None = None
        self.inflight: dict[str, InFlight] = {}

    def _session(self, session_id: str) -> SessionSteering:
        return self.sessions.setdefault(session_id, SessionSteering())

    def _applied(self, action: str, target: str = "", value: str = "",
                 session_id: str = "", source: str = "ui") -> None:
        if session_id:
            self._session(session_id).note = f"override:{source}"
        self.publish(SteeringApplied(session_id=session_id, action=action, target=target,
                                     value=value, source=source))

    def _check_upstream(self, upstream_id: str) -> None:
        if upstream_id not in self.upstream_ids:
            raise SteeringError(f"no upstream {upstream_id!r} (known: "
                                f"{', '.join(sorted(self.upstream_ids))})")

    # --- tiers ---------------------------------------------------------------------------

    def force_next_tier(self, session_id: str, tier: str, source: str = "ui") -> None:
        """Route the session's next request at `tier`, once."""
        if tier not in TIERS:
            raise SteeringError(f"tier must be one of {', '.join(TIERS)}")
        self._session(session_id).next_tier = tier
        self._applied("force_tier", session_id, tier, session_id, source)

    def lock_tier(self, session_id: str, tier: str | None, source: str = "ui") -> None:
        """Route every request of the session at `tier` (None: unlock)."""
        if tier is not None and tier not in TIERS:
            raise SteeringError(f"tier must be one of {', '.join(TIERS)}")
        steering = self._session(session_id)
        steering.locked_tier = tier
        steering.next_tier = None
        self._applied("lock_tier" if tier else "auto_tier", session_id, tier or "auto",
                      session_id, source)

    def tier_for(self, session_id: str) -> tuple[str | None, str | None]:
        """(tier forced for this request, route reason); consumes a one-shot force."""
        steering = self.sessions.get(session_id)
        if steering is None:
            return None, None
        tier = steering.next_tier or steering.locked_tier
        steering.next_tier = None
        note, steering.note = steering.note, None
        return tier, (note if tier or note else None)

    def take_note(self, session_id: str) -> str | None:
        """The steering note for the session's next route reason, once."""
        steering = self.sessions.get(session_id)
        if steering is None:
            return None
        note, steering.note = steering.note, None
        return note

    # --- actor and pins --------------------------------------------------------------------

    def swap_actor(self, session_id: str, upstream_id: str, source: str = "ui") -> None:
        """Make `upstream_id` the session's actor (and pin it)."""
        self._check_upstream(upstream_id)
        self._session(session_id).actor = upstream_id
        self.pins.pin(session_id, upstream_id)
        self._applied("swap_actor", session_id, upstream_id, session_id, source)

    def pin(self, session_id: str, upstream_id: str, source: str = "ui") -> None:
        """Pin the session to an actor."""
        self._check_upstream(upstream_id)
        self.pins.pin(session_id, upstream_id)
        self._applied("pin", session_id, upstream_id, session_id, source)

    def unpin(self, session_id: str, source: str = "ui") -> None:
        """Forget the session's pin (the next tool request pins afresh)."""
        self.pins.unpin(session_id)
        self._session(session_id).actor = None
        self._applied("unpin", session_id, "", session_id, source)

    # --- advisors and the council ------------------------------------------------------------

    def mute_advisor(self, advisor: str, muted: bool = True, session_id: str | None = None,
                     source: str = "ui") -> None:
        """Leave an advisor out of councils, for one session or for all."""
        self._check_upstream(advisor)
        target = self._session(session_id).muted if session_id else self.muted_globally
        (target.add if muted else target.discard)(advisor)
        self._applied("mute_advisor" if muted else "unmute_advisor", advisor,
                      session_id or "global", session_id or "", source)

    def advisors_for(self, session_id: str, pool: Iterable[str]) -> list[str]:
        """The pool less muted advisors."""
        muted = self.muted_globally | (self.sessions[session_id].muted
                                       if session_id in self.sessions else set())
        return [a for a in pool if a not in muted]

    def set_council(self, enabled: bool | None, session_id: str | None = None,
                    source: str = "ui") -> None:
        """Council on/off for a session or globally (None: follow the config)."""
        if session_id:
            self._session(session_id).council = enabled
        else:
            self.council_globally = enabled
        self._applied("council", session_id or "global",
                      "follow_config" if enabled is None else ("on" if enabled else "off"),
                      session_id or "", source)

    def council_enabled(self, session_id: str, configured: bool) -> bool:
        """Whether councils may convene for this session."""
        steering = self.sessions.get(session_id)
        if steering is not None and steering.council is not None:
            return steering.council
        return configured if self.council_globally is None else self.council_globally

    # --- hold ----------------------------------------------------------------------------

    def set_hold(self, mode: str, source: str = "ui") -> None:
        """Hold-before-act: off | plan | always."""
        if mode not in HOLD_MODES:
            raise SteeringError(f"hold must be one of {', '.join(HOLD_MODES)}")
        self.hold_mode = mode
        self._applied("hold", "global", mode, "", source)

    def decide_briefing(self, request_id: str, decision: str, text: str | None = None,
                        source: str = "ui") -> None:
        """Approve, edit (with `text`) or skip a held briefing."""
        if not self.hold_desk.decide(request_id, decision, text, source):
            raise SteeringError(f"no briefing is held for request {request_id}")
        flight = self.inflight.get(request_id)
        self._applied(f"briefing_{decision}", request_id, "",
                      flight.session_id if flight else "", source)

    # --- in-flight requests ----------------------------------------------------------------

    def track(self, request_id: str, session_id: str) -> None:
        """Register the current task as serving `request_id`."""
        self.inflight[request_id] = InFlight(session_id, asyncio.current_task())

    def untrack(self, request_id: str) -> None:
        """The request is done."""
        self.inflight.pop(request_id, None)

    def drop(self, request_id: str, source: str = "ui") -> None:
        """Cancel an in-flight request (its client gets an error; upstream calls stop)."""
        flight = self.inflight.get(request_id)
        if flight is None or flight.task is None:
            raise SteeringError(f"request {request_id} is not in flight")
        flight.dropped = True
        flight.task.cancel(msg=f"dropped by {source}")
        self._applied("drop", request_id, "", flight.session_id, source)

    def was_dropped(self, request_id: str) -> bool:
        """Whether the request was dropped by a person."""
        flight = self.inflight.get(request_id)
        return bool(flight and flight.dropped)
