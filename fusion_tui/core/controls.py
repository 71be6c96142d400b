"""The steering API: everything a person (the dashboard, or a script) can do to the running
core. Every act publishes `SteeringApplied` and shows as `override:<source>` in the route
reason of the next response of each session it affects: one session's next response for a
session act, every session's next response (once each) for a global one. A briefing decision
is said in the held request's own route instead; a drop in the dropped request's answer and
in the session's next response."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from fusion_tui.config.council import HoldMode
from fusion_tui.config.tiers import TIERS, Tier
from fusion_tui.council.hold import HoldDesk
from fusion_tui.events import Event, SteeringApplied
from fusion_tui.routing.router import PinTable


class SteeringError(ValueError):
    """A steering act that cannot be applied (unknown upstream, no such request, ...)."""


@dataclass
class CouncilPlan:
    """How a person composed the council (for one session, or everywhere): advisors added
    from any configured upstream, advisors replaced by others, the judge, perspectives."""

    added: list[str] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)
    """advisor -> the upstream sitting in its place."""
    judge: str | None = None
    perspectives: dict[str, str] = field(default_factory=dict)

    def aspects(self) -> list[str]:
        """What this plan changes, as route-reason words (added, replaced, judge,
        perspective)."""
        return [word for word, on in (("added", self.added), ("replaced", self.replaced),
                                      ("judge", self.judge), ("perspective", self.perspectives))
                if on]


@dataclass(frozen=True)
class Composition:
    """The council a session gets: advisors in order, the judge, each advisor's perspective
    and what a person changed (`steered`: route-reason words, empty when nothing)."""

    advisors: list[str]
    judge: str | None
    perspectives: dict[str, str]
    steered: list[str]


@dataclass
class SessionSteering:
    """What a person set for one session."""

    next_tier: Tier | None = None
    locked_tier: Tier | None = None
    actor: str | None = None
    muted: set[str] = field(default_factory=set)
    council: bool | None = None
    note: str | None = None
    composition: CouncilPlan = field(default_factory=CouncilPlan)


@dataclass
class InFlight:
    """A request being served: its session, the task serving it, and its body (read only
    when a person drops it, to recognise the same request coming back)."""

    session_id: str
    task: asyncio.Task[object] | None
    dropped_by: str | None = None
    body: Mapping[str, Any] | None = None


DROP_STICKS_S = 120.0
"""How long a dropped request stays dropped: the same conversation sent again by its
session within this time (an SDK's retry, Claude Code's fallback from a failed stream to a
non-streaming request) is refused the same way, without reaching an upstream."""


def conversation_fingerprint(body: Mapping[str, Any]) -> bytes:
    """What identifies a request's conversation whatever the transport options: a digest of
    its `messages` (Anthropic, OpenAI Chat) or `input` (Responses). `stream`, `max_tokens`
    and Claude Code's per-request billing line in `system` do not count."""
    turns = body.get("messages", body.get("input"))
    return hashlib.sha256(orjson.dumps(turns, option=orjson.OPT_SORT_KEYS)).digest()


@dataclass(frozen=True)
class StuckDrop:
    """A dropped request's conversation, who dropped it, and until when it stays dropped."""

    fingerprint: bytes
    source: str
    until: float


class Controls:
    """Steering state and acts. The request pipeline reads the state; the dashboard acts."""

    def __init__(self, upstream_ids: Iterable[str], pins: PinTable,
                 publish: Callable[[Event], None], hold_desk: HoldDesk,
                 hold_mode: HoldMode = HoldMode.OFF,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.upstream_ids = set(upstream_ids)
        self.pins = pins
        self.publish = publish
        self.hold_desk = hold_desk
        self.hold_mode = hold_mode
        self.sessions: dict[str, SessionSteering] = {}
        self.muted_globally: set[str] = set()
        self.council_globally: bool | None = None
        self.composition_globally = CouncilPlan()
        self.inflight: dict[str, InFlight] = {}
        self.stuck: dict[str, StuckDrop] = {}
        """Per session, the conversation a person dropped last (see DROP_STICKS_S)."""
        self.clock = clock
        # Global acts are counted, not fanned out over the sessions: a session whose last
        # seen generation is behind the counter has global acts it has not been told about.
        self._generation = 0
        self._global_sources: dict[str, int] = {}
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._seen_max = max(1, pins.max_sessions)

    def _session(self, session_id: str) -> SessionSteering:
        return self.sessions.setdefault(session_id, SessionSteering())

    def _applied(self, action: str, target: str = "", value: str = "",
                 session_id: str = "", source: str = "ui", note: bool = True) -> None:
        if note and session_id:
            self._session(session_id).note = f"override:{source}"
        elif note:
            self._generation += 1
            self._global_sources[source] = self._generation
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
        self._session(session_id).next_tier = Tier(tier)
        self._applied("force_tier", session_id, tier, session_id, source)

    def lock_tier(self, session_id: str, tier: str | None, source: str = "ui") -> None:
        """Route every request of the session at `tier` (None: unlock)."""
        if tier is not None and tier not in TIERS:
            raise SteeringError(f"tier must be one of {', '.join(TIERS)}")
        steering = self._session(session_id)
        steering.locked_tier = None if tier is None else Tier(tier)
        steering.next_tier = None
        self._applied("lock_tier" if tier else "auto_tier", session_id, tier or "auto",
                      session_id, source)

    def tier_for(self, session_id: str) -> tuple[Tier | None, str | None]:
        """(tier forced for this request, route reason); consumes a one-shot force and the
        session's steering note."""
        tier = self.steered_tier(session_id)
        return tier, self.take_note(session_id)

    def steered_tier(self, session_id: str) -> Tier | None:
        """The tier a person forced or locked for this request; consumes a one-shot force."""
        steering = self.sessions.get(session_id)
        if steering is None:
            return None
        tier = steering.next_tier or steering.locked_tier
        steering.next_tier = None
        return tier

    def take_note(self, session_id: str) -> str | None:
        """The steering note for the session's next route reason (`override:<source>`, one
        per source), once: its own acts since its last response, and every global act it
        has not been told about yet (a session that starts after a global act is told in
        its first response)."""
        steering = self.sessions.get(session_id)
        note = None
        if steering is not None:
            note, steering.note = steering.note, None
        if not self._generation:
            return note
        seen = self._seen.pop(session_id, 0)
        self._seen[session_id] = self._generation
        if len(self._seen) > self._seen_max:
            self._seen.popitem(last=False)
        if seen == self._generation:
            return note
        notes = [f"override:{src}" for src, gen in self._global_sources.items() if gen > seen]
        if note and note not in notes:
            notes.insert(0, note)
        return ",".join(notes)

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

    def _plan(self, session_id: str | None) -> CouncilPlan:
        return self._session(session_id).composition if session_id else self.composition_globally

    def add_advisor(self, advisor: str, session_id: str | None = None,
                    source: str = "ui") -> None:
        """Seat any configured upstream on the council (and unmute it at the same scope)."""
        self._check_upstream(advisor)
        plan = self._plan(session_id)
        if advisor not in plan.added:
            plan.added.append(advisor)
        (self._session(session_id).muted if session_id else self.muted_globally).discard(advisor)
        self._applied("add_advisor", advisor, session_id or "global", session_id or "", source)

    def remove_advisor(self, advisor: str, session_id: str | None = None,
                       source: str = "ui") -> None:
        """Undo an addition or a replacement of `advisor` at this scope."""
        plan = self._plan(session_id)
        if advisor not in plan.added and advisor not in plan.replaced.values():
            raise SteeringError(f"{advisor} was not added to the council "
                                f"{'of ' + session_id if session_id else 'everywhere'}")
        plan.added = [a for a in plan.added if a != advisor]
        plan.replaced = {old: new for old, new in plan.replaced.items() if new != advisor}
        self._applied("remove_advisor", advisor, session_id or "global", session_id or "",
                      source)

    def replace_advisor(self, advisor: str, by: str, session_id: str | None = None,
                        source: str = "ui") -> None:
        """`by` sits where `advisor` sat (any configured upstream)."""
        self._check_upstream(advisor)
        self._check_upstream(by)
        if advisor == by:
            raise SteeringError("an advisor cannot replace itself")
        self._plan(session_id).replaced[advisor] = by
        self._applied("replace_advisor", advisor, f"{by} {session_id or 'global'}",
                      session_id or "", source)

    def set_judge(self, judge: str | None, session_id: str | None = None,
                  source: str = "ui") -> None:
        """The judge that writes the briefing (None: the configured judge pool again)."""
        if judge is not None:
            self._check_upstream(judge)
        self._plan(session_id).judge = judge
        self._applied("set_judge", judge or "configured", session_id or "global",
                      session_id or "", source)

    def set_perspective(self, advisor: str, perspective: str | None,
                        session_id: str | None = None, source: str = "ui") -> None:
        """Give an advisor a stance (None or empty: the configured one again)."""
        self._check_upstream(advisor)
        plan = self._plan(session_id)
        if perspective and perspective.strip():
            plan.perspectives[advisor] = perspective.strip()[:500]
        else:
            plan.perspectives.pop(advisor, None)
        self._applied("set_perspective", advisor, session_id or "global", session_id or "",
                      source)

    def compose(self, session_id: str, pool: Iterable[str], judges: Iterable[str],
                perspectives: dict[str, str]) -> Composition:
        """The council for the session's next tool turn: the configured `pool` with every
        replacement and addition applied (global first, then the session's), muted advisors
        left out; the judge a person chose, else the first of `judges`; `perspectives` (the
        configured ones) overlaid by the steered ones."""
        steering = self.sessions.get(session_id)
        plans = [self.composition_globally] + ([steering.composition] if steering else [])
        advisors = list(pool)
        judge = next(iter(judges), None)
        stances = dict(perspectives)
        steered: list[str] = []
        for plan in plans:
            for old, new in plan.replaced.items():
                advisors = [new if a == old else a for a in advisors]
            advisors.extend(a for a in plan.added if a not in advisors)
            judge = plan.judge or judge
            stances.update(plan.perspectives)
            steered.extend(a for a in plan.aspects() if a not in steered)
        advisors = self.advisors_for(session_id, dict.fromkeys(advisors))
        order = CouncilPlan(["-"], {"-": "-"}, "-", {"-": "-"}).aspects()
        return Composition(advisors, judge, {a: stances[a] for a in advisors if a in stances},
                           [word for word in order if word in steered])

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

    def set_hold(self, mode: HoldMode | str, source: str = "ui") -> None:
        """Hold-before-act: a HoldMode (or its value: off | plan | always)."""
        try:
            self.hold_mode = HoldMode(mode)
        except ValueError:
            raise SteeringError(f"hold must be one of {', '.join(HoldMode)}") from None
        self._applied("hold", "global", mode, "", source)

    def decide_briefing(self, request_id: str, decision: str, text: str | None = None,
                        source: str = "ui") -> None:
        """Approve, edit (with `text`) or skip a held briefing. The held request's own route
        says so (`briefing:approved_<source>`, ...); no note is left for the next one."""
        if not self.hold_desk.decide(request_id, decision, text, source):
            raise SteeringError(f"no briefing is held for request {request_id}")
        flight = self.inflight.get(request_id)
        self._applied(f"briefing_{decision}", request_id, "",
                      flight.session_id if flight else "", source, note=False)

    # --- in-flight requests ----------------------------------------------------------------

    def track(self, request_id: str, session_id: str,
              body: Mapping[str, Any] | None = None) -> None:
        """Register the current task as serving `request_id` (with its body)."""
        self.inflight[request_id] = InFlight(session_id, asyncio.current_task(), body=body)

    def dropped_before(self, session_id: str, body: Mapping[str, Any]) -> str | None:
        """Who dropped this same conversation from this session a moment ago (its retry is
        refused as the original was), else None. A different conversation from the session
        means its client moved on: the drop is forgotten."""
        stuck = self.stuck.get(session_id)
        if stuck is None:
            return None
        if self.clock() > stuck.until or conversation_fingerprint(body) != stuck.fingerprint:
            del self.stuck[session_id]
            return None
        return stuck.source

    def untrack(self, request_id: str) -> None:
        """The request is done."""
        self.inflight.pop(request_id, None)

    def drop(self, request_id: str, source: str = "ui") -> None:
        """Cancel an in-flight request: its client gets an error whose route reason ends in
        `override:<source>,dropped`, upstream calls stop, and the session's next response
        carries `override:<source>` too (its conversation lost a turn)."""
        flight = self.inflight.get(request_id)
        if flight is None or flight.task is None:
            raise SteeringError(f"request {request_id} is not in flight")
        flight.dropped_by = source
        if flight.body is not None and flight.session_id:
            self.stuck[flight.session_id] = StuckDrop(conversation_fingerprint(flight.body),
                                                      source, self.clock() + DROP_STICKS_S)
            while len(self.stuck) > self._seen_max:
                self.stuck.pop(next(iter(self.stuck)))
        flight.task.cancel(msg=f"dropped by {source}")
        self._applied("drop", request_id, "", flight.session_id, source)

    def was_dropped(self, request_id: str) -> bool:
        """Whether the request was dropped by a person."""
        return self.dropped_by(request_id) is not None

    def dropped_by(self, request_id: str) -> str | None:
        """Who dropped the request (the act's source), None if nobody did."""
        flight = self.inflight.get(request_id)
        return flight.dropped_by if flight else None
