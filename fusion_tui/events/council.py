"""Events of the council, the panel, the actor and money, and the closed sets they carry
(`AnswerState`, `BriefingDecision`, `CostStage`, `CouncilTrigger`: their values are what
recordings hold)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fusion_tui.events.model import Event


class AnswerState(StrEnum):
    """How an advisor's or panel member's call ended by the deadline."""

    OK = "ok"
    """Answered in full."""
    PARTIAL = "partial"
    """Cut at the deadline with some text, which is kept."""
    FAILED = "failed"
    """An error, or cut with no text."""


class BriefingDecision(StrEnum):
    """The fate of a held briefing: a person's decision, or the hold's timeout."""

    APPROVE = "approve"
    EDIT = "edit"
    SKIP = "skip"
    TIMEOUT = "timeout"


class CouncilTrigger(StrEnum):
    """Why a council sits. `tier` and `always` come from council.trigger; the others are
    signals, said in the route as `council_signal:<value>`."""

    TIER = "tier"
    ALWAYS = "always"
    FAILING_TOOLS = "failing_tools"
    CLOSE_TO_PLAN = "close_to_plan"
    UNSURE = "unsure"

    @property
    def is_signal(self) -> bool:
        """True for a signal (convened below the trigger's tier)."""
        return self not in (CouncilTrigger.TIER, CouncilTrigger.ALWAYS)


class CostStage(StrEnum):
    """Which part of a turn an upstream call's cost belongs to."""

    ADVISOR = "advisor"
    JUDGE = "judge"
    ACTOR = "actor"
    PANEL = "panel"
    """A panel member's answer."""

    @property
    def council(self) -> bool:
        """True for the council's own spend (advisors and the judge)."""
        return self in (CostStage.ADVISOR, CostStage.JUDGE)


@dataclass(frozen=True, kw_only=True)
class CouncilConvened(Event):
    """A council sits: who advises, who judges (None: the judge is skipped and the actor gets
    the opinions), who acts, under what deadline, and why."""

    advisors: list[str]
    judge: str | None
    actor: str
    deadline_s: float
    perspectives: dict[str, str] = field(default_factory=dict)
    trigger: CouncilTrigger = CouncilTrigger.TIER
    """Why it sits: its tier, always, or a signal."""
    temperatures: dict[str, float] = field(default_factory=dict)
    """Advisor seat -> the temperature it was asked at (self-consistency samples)."""
    sampled: str | None = None
    """The upstream every seat samples (a self-consistency council), else None."""


@dataclass(frozen=True, kw_only=True)
class CouncilSkipped(Event):
    """A council that would have convened did not (budget spent, switched off, no advisors)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class AdvisorDelta(Event):
    """A piece of an advisor's deliberation (or a panel member's answer), as it streams."""

    advisor: str
    text: str


@dataclass(frozen=True, kw_only=True)
class AdvisorFinished(Event):
    """An advisor is done: how it ended, with its text, usage and latency."""

    advisor: str
    state: AnswerState
    text: str = ""
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0


@dataclass(frozen=True, kw_only=True)
class BriefingDelta(Event):
    """A piece of the judge's briefing."""

    text: str


@dataclass(frozen=True, kw_only=True)
class BriefingReady(Event):
    """The briefing the actor will get (before any hold)."""

    text: str
    judge: str | None
    synthesized: bool
    order: list[str] = field(default_factory=list)
    latency_ms: float = 0.0


@dataclass(frozen=True, kw_only=True)
class BriefingHeld(Event):
    """The briefing waits for a person (approve, edit or skip) until `timeout_s`."""

    text: str
    timeout_s: float


@dataclass(frozen=True, kw_only=True)
class BriefingDecided(Event):
    """A held briefing was decided (or timed out); `text` is what the actor gets (empty when
    skipped)."""

    decision: BriefingDecision
    text: str
    source: str = "ui"


@dataclass(frozen=True, kw_only=True)
class CouncilFailed(Event):
    """The council could not brief the actor (below quorum, judge error); the actor goes alone."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class ActorStarted(Event):
    """The actor was called, with or without a briefing."""

    actor: str
    briefed: bool


@dataclass(frozen=True, kw_only=True)
class ActorToolCalled(Event):
    """The actor's answer calls a tool."""

    actor: str
    name: str
    input: dict[str, Any] = field(default_factory=dict)
    tool_use_id: str = ""


@dataclass(frozen=True, kw_only=True)
class PanelMemberFinished(Event):
    """A panel member answered (or failed)."""

    member: str
    state: AnswerState
    text: str = ""
    error: str | None = None
    output_tokens: int = 0
    latency_ms: float = 0.0


@dataclass(frozen=True, kw_only=True)
class CostRecorded(Event):
    """One upstream call's usage and cost, with the stage of the turn it belongs to."""

    upstream_id: str
    stage: CostStage
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    session_total_usd: float = 0.0
    priced: bool = True
    """False when the upstream has no known price: cost_usd is then 0.0 but means unknown."""
