"""What the meeting room knows: sessions, and per request the council, briefing and actor.

Plain data folded from events (no Textual here), so widgets and tests share one truth.
Everything is bounded: the newest `max_sessions` sessions, the newest `max_turns` turns each,
the newest `max_tools` tool calls a turn; what points at turns (the held briefings) forgets a
turn when it goes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fusion_tui.events import (
    ActorStarted,
    ActorToolCalled,
    AdvisorDelta,
    AdvisorFinished,
    BriefingDecided,
    BriefingDelta,
    BriefingHeld,
    BriefingReady,
    CostRecorded,
    CouncilConvened,
    CouncilFailed,
    CouncilSkipped,
    Event,
    GateDecided,
    PanelMemberFinished,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
    SessionPinned,
    TierEscalated,
    TurnPriced,
)


def route_part(route: str, key: str) -> str:
    """The value of `key=` in an x-fusion-route header ('' when absent)."""
    for part in route.split(";"):
        name, _, value = part.strip().partition("=")
        if name == key:
            return value
    return ""


def route_kinds(route: str) -> set[str]:
    """The request kinds the route's reason names (`reason=...,kind:subagent,...`)."""
    reason = route_part(route, "reason")
    return {part.removeprefix("kind:") for part in reason.split(",")
            if part.startswith("kind:")}


SUBAGENT = "subagent"
"""The request kind of a coding agent's sub-agent (Claude Code's Task tool): its requests
carry the parent's session id, and the room shows them in a lane of their own."""

LANE_SUFFIX = " ↳ sub-agents"
"""A lane's id is its parent session's id plus this (never a real session id: it has a
space)."""


def lane_id(session_id: str) -> str:
    """The id of the sub-agent lane under `session_id`."""
    return session_id + LANE_SUFFIX


MAX_SESSIONS = 200
MAX_TURNS = 20
MAX_TOOLS = 50
MAX_TEXT = 40_000
"""Longest deliberation or briefing kept (characters); the rest is cut from the front."""


def summarize_input(name: str, data: dict[str, Any], width: int = 60) -> str:
    """A readable one-line summary of a tool call's input (the field that says the most)."""
    for key in ("command", "file_path", "path", "pattern", "url", "query", "description",
                "prompt", "content"):
        value = data.get(key)
        if isinstance(value, str) and value:
            text = " ".join(value.split())
            break
    else:
        text = json.dumps(data, separators=(",", ":"), default=str) if data else ""
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class AdvisorView:
    """One advisor at one council: what it said so far and how it ended."""

    name: str
    perspective: str = ""
    state: str = "thinking"  # thinking | ok | partial | failed
    text: str = ""
    tokens: int = 0
    latency_ms: float | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        """The state as people say it."""
        return {"thinking": "thinking", "ok": "done"}.get(self.state, self.state)


@dataclass
class ToolCallView:
    """One tool call of the actor."""

    name: str
    summary: str
    tool_use_id: str = ""


class BriefingPhase(StrEnum):
    """Where a turn's briefing stands on screen: being written, ready, held for a person, or
    what became of a held one (a BriefingDecision's value)."""

    WRITING = "writing"
    READY = "ready"
    HELD = "held"
    APPROVE = "approve"
    EDIT = "edit"
    SKIP = "skip"
    TIMEOUT = "timeout"


@dataclass
class TurnView:
    """One request of a session: its council (if any), briefing and actor."""

    request_id: str
    session_id: str
    council: bool = False
    panel: bool = False
    """A panel turn (tool-free, plan): `advisors` are its members, `judge` fuses them."""
    council_note: str = ""
    advisors: dict[str, AdvisorView] = field(default_factory=dict)
    judge: str | None = None
    briefing: str = ""
    briefing_state: BriefingPhase | None = None
    held_timeout_s: float = 0.0
    held_at: float | None = None
    """When the held briefing reached the screen, by the room's clock (its countdown starts
    then; None until it is shown, and again when the briefing is held anew)."""
    actor: str = ""
    briefed: bool | None = None
    tools: list[ToolCallView] = field(default_factory=list)
    stop_reason: str | None = None
    status: int | None = None
    error: str | None = None

    @property
    def held(self) -> bool:
        """True while the briefing waits for a person."""
        return self.briefing_state == BriefingPhase.HELD

    @property
    def finished(self) -> bool:
        """True once the response finished."""
        return self.status is not None


@dataclass
class SessionView:
    """One session as the sessions list shows it."""

    session_id: str
    client: str = ""
    tier: str = ""
    actor: str = ""
    turns: int = 0
    cost_usd: float = 0.0
    saved_usd: float | None = None
    """Baseline minus routed cost of the turns the baseline prices (None: none yet)."""
    input_tokens: int = 0
    cache_read_tokens: int = 0
    escalated: bool = False
    """The latest turn's tier was raised by failing tool results."""
    last_seen: float = 0.0
    in_flight: list[str] = field(default_factory=list)
    history: OrderedDict[str, TurnView] = field(default_factory=OrderedDict)
    parent: str | None = None
    """For a sub-agent lane: the session it belongs to (steering acts on that one)."""

    @property
    def cache_hit_rate(self) -> float | None:
        """Cache-read tokens over input tokens of its answered turns."""
        return self.cache_read_tokens / self.input_tokens if self.input_tokens else None

    def turn(self, request_id: str) -> TurnView:
        """The turn of `request_id` (created if new)."""
        turn = self.history.get(request_id)
        if turn is None:
            turn = self.history[request_id] = TurnView(request_id, self.session_id)
            while len(self.history) > MAX_TURNS:
                self.history.popitem(last=False)
        return turn

    @property
    def current(self) -> TurnView | None:
        """The turn the room shows: the newest with a council, else the newest."""
        for turn in reversed(self.history.values()):
            if turn.council:
                return turn
        return next(reversed(self.history.values()), None)


def _keep_tail(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[-MAX_TEXT:]


@dataclass
class Changes:
    """What one batch changed: sessions touched, and text appended to advisors/briefings
    as (request_id, advisor or "" for the briefing, text)."""

    sessions: set[str] = field(default_factory=set)
    appended: list[tuple[str, str, str]] = field(default_factory=list)
    reset: set[str] = field(default_factory=set)
    """Requests whose council view must be redrawn from scratch."""

    def merge(self, later: Changes) -> None:
        """Fold a later batch's changes into these."""
        self.sessions |= later.sessions
        self.appended.extend(later.appended)
        self.reset |= later.reset


class RoomModel:
    """Folds events into sessions and turns."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self.sessions: OrderedDict[str, SessionView] = OrderedDict()
        self.held: dict[str, str] = {}
        """Held briefings: request id -> session id (only turns still in a history)."""
        self.total_cost_usd = 0.0
        self.lanes: OrderedDict[str, str] = OrderedDict()
        """Requests moved to a sub-agent lane: request id -> lane id (their later events,
        which name the parent session, go there)."""

    def session(self, session_id: str) -> SessionView:
        """The session (created if new; the oldest go past the bound)."""
        view = self.sessions.get(session_id)
        if view is None:
            view = self.sessions[session_id] = SessionView(session_id)
            if len(self.sessions) > self.max_sessions:
                while len(self.sessions) > self.max_sessions:
                    self.sessions.popitem(last=False)
                self._forget_gone()
        return view

    def _forget_gone(self) -> None:
        """Drop held entries whose session or turn fell out of the bounded histories."""
        if self.held:
            self.held = {rid: sid for rid, sid in self.held.items()
                         if self.turn(sid, rid) is not None}

    def turn(self, session_id: str, request_id: str) -> TurnView | None:
        """A known turn, or None."""
        view = self.sessions.get(session_id)
        return view.history.get(request_id) if view else None

    def apply(self, events: Iterable[Event]) -> Changes:
        """Fold a batch; returns what changed."""
        changes = Changes()
        for event in events:
            if not event.session_id:
                continue
            self._apply(event, changes)
        return changes

    def _move_to_lane(self, view: SessionView, turn: TurnView,
                      changes: Changes) -> SessionView:
        """A sub-agent's request: its turn leaves the parent for the parent's lane."""
        lane = self.sessions.get(lane_id(view.session_id))
        if lane is None:
            lane = self.session(lane_id(view.session_id))
            lane.parent, lane.client = view.session_id, view.client
        rid = turn.request_id
        view.history.pop(rid, None)
        view.turns = max(0, view.turns - 1)
        if rid in view.in_flight:
            view.in_flight.remove(rid)
            lane.in_flight.append(rid)
        turn.session_id = lane.session_id
        lane.history[rid] = turn
        while len(lane.history) > MAX_TURNS:
            lane.history.popitem(last=False)
        lane.turns += 1
        lane.last_seen = view.last_seen
        self.lanes[rid] = lane.session_id
        while len(self.lanes) > MAX_SESSIONS * MAX_TURNS:
            self.lanes.popitem(last=False)
        changes.sessions.add(lane.session_id)
        changes.reset.add(rid)
        return lane

    def _apply(self, event: Event, changes: Changes) -> None:
        sid, rid = event.session_id, event.request_id
        sid = self.lanes.get(rid, sid) if rid else sid
        view = self.session(sid)
        view.last_seen = max(view.last_seen, event.ts)
        changes.sessions.add(sid)
        if isinstance(event, CostRecorded):
            self.total_cost_usd += event.cost_usd
            view.cost_usd = max(view.cost_usd + event.cost_usd, event.session_total_usd)
            return
        if isinstance(event, SessionPinned):
            view.actor = event.upstream_id
            return
        if isinstance(event, TurnPriced):
            if event.baseline_usd is not None:
                view.saved_usd = (view.saved_usd or 0.0) + event.baseline_usd - event.cost_usd
            view.input_tokens += event.input_tokens
            view.cache_read_tokens += event.cache_read_tokens
            return
        if isinstance(event, TierEscalated):
            view.escalated = not event.vetoed
            return
        if not rid:
            return
        known = rid in view.history
        turn = view.turn(rid)
        if not known and len(view.history) == MAX_TURNS:
            self._forget_gone()  # the new turn may have pushed a held one out
        if isinstance(event, RequestReceived):
            view.turns += 1
            view.client = view.client or event.client
            view.in_flight.append(rid)
        elif isinstance(event, GateDecided):
            view.tier, view.escalated = event.tier, False
        elif isinstance(event, RouteChosen):
            if SUBAGENT in route_kinds(event.route) and view.parent is None:
                view = self._move_to_lane(view, turn, changes)
            if event.tier and event.tier != "-":
                view.tier = event.tier
            members = route_part(event.route, "panel")
            if members:
                # a tool-free plan turn: the panel answers in the room like advisors, and
                # the upstream that serves fuses their answers
                turn.council, turn.panel, turn.judge = True, True, event.upstream_id
                turn.advisors = {m: turn.advisors.get(m, AdvisorView(m, "panel"))
                                 for m in members.split("+")}
                changes.reset.add(rid)
            else:
                turn.actor = turn.actor or event.upstream_id
                view.actor = event.upstream_id
        elif isinstance(event, CouncilConvened):
            turn.council, turn.judge, turn.actor = True, event.judge, event.actor
            turn.advisors = {a: AdvisorView(a, event.perspectives.get(a, ""))
                             for a in event.advisors}
            view.actor = event.actor
            changes.reset.add(rid)
        elif isinstance(event, (CouncilSkipped, CouncilFailed)):
            what = "skipped" if isinstance(event, CouncilSkipped) else "failed"
            turn.council_note = f"council {what}: {event.reason}"
            changes.reset.add(rid)
        elif isinstance(event, AdvisorDelta):
            if event.advisor not in turn.advisors:
                changes.reset.add(rid)  # a pane to add
            advisor = turn.advisors.setdefault(event.advisor, AdvisorView(event.advisor))
            advisor.text = _keep_tail(advisor.text + event.text)
            changes.appended.append((rid, event.advisor, event.text))
        elif isinstance(event, AdvisorFinished | PanelMemberFinished):
            name = event.advisor if isinstance(event, AdvisorFinished) else event.member
            advisor = turn.advisors.setdefault(name, AdvisorView(name))
            advisor.state, advisor.error = event.state, event.error
            advisor.tokens, advisor.latency_ms = event.output_tokens, event.latency_ms
            if event.text and event.text != advisor.text:
                advisor.text = _keep_tail(event.text)
                changes.reset.add(rid)
        elif isinstance(event, BriefingDelta):
            turn.briefing = _keep_tail(turn.briefing + event.text)
            turn.briefing_state = BriefingPhase.WRITING
            changes.appended.append((rid, "", event.text))
        elif isinstance(event, BriefingReady):
            turn.briefing, turn.briefing_state = event.text, BriefingPhase.READY
            turn.judge = event.judge or turn.judge
            changes.reset.add(rid)
        elif isinstance(event, BriefingHeld):
            turn.briefing, turn.briefing_state = event.text, BriefingPhase.HELD
            turn.held_timeout_s, turn.held_at = event.timeout_s, None
            self.held[rid] = sid
            changes.reset.add(rid)
        elif isinstance(event, BriefingDecided):
            turn.briefing, turn.briefing_state = event.text, BriefingPhase(event.decision)
            self.held.pop(rid, None)
            changes.reset.add(rid)
        elif isinstance(event, ActorStarted):
            turn.actor, turn.briefed = event.actor, event.briefed
        elif isinstance(event, ActorToolCalled):
            turn.tools.append(ToolCallView(event.name, summarize_input(event.name, event.input),
                                           event.tool_use_id))
            del turn.tools[:-MAX_TOOLS]
        elif isinstance(event, ResponseFinished):
            turn.status, turn.stop_reason, turn.error = (event.status, event.stop_reason,
                                                         event.error)
            turn.actor = turn.actor or event.upstream_id
            self._done(view, rid)
        elif isinstance(event, RequestCancelled):
            turn.error = event.reason
            self._done(view, rid)

    def _done(self, view: SessionView, request_id: str) -> None:
        if request_id in view.in_flight:
            view.in_flight.remove(request_id)
        self.held.pop(request_id, None)
