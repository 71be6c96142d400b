"""Settings of the council (advisors, judge, actor), the panel, and prices."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator


class HoldMode(StrEnum):
    """When a briefing is held for a person before the actor acts (council.hold)."""

    OFF = "off"
    PLAN = "plan"
    """Only on plan-tier turns."""
    ALWAYS = "always"


class HoldTimeoutAction(StrEnum):
    """What a held briefing nobody decided becomes (council.hold_timeout_action)."""

    APPROVE = "approve"
    """The actor gets the briefing."""
    SKIP = "skip"
    """The actor acts without it."""


class PanelMethod(StrEnum):
    """How the panel's judge uses the members' answers (panel.method)."""

    SYNTHESIZE = "synthesize"
    """Fuse them into one answer (the judge's answer streams to the client)."""
    RANK = "rank"
    """Pick the best, returned as it was."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Price(_Strict):
    """US dollars per million tokens."""

    input: float = Field(0.0, ge=0)
    """Uncached input tokens."""
    output: float = Field(0.0, ge=0)
    """Output tokens."""
    cache_read: float = Field(0.0, ge=0)
    """Input tokens read from the prompt cache."""
    cache_write: float = Field(0.0, ge=0)
    """Input tokens written to the prompt cache."""


class AdvisorSettings(_Strict):
    """Per-advisor options, keyed by upstream id under `council.advisors`."""

    perspective: str | None = None
    """A stance for this advisor, e.g. "adversarial reviewer: find what will break"."""
    muted: bool = False
    """Leave this advisor out of every council (the dashboard can toggle it live)."""


SELF_ACTOR = "actor"
"""`council.self_consistency.upstream` value meaning the turn's own actor."""


class SelfConsistencySettings(_Strict):
    """The council as one upstream asked N times (self-consistency): each sample is an
    advisor seat of its own, `<upstream>#1` ... `<upstream>#N`, with its own temperature and
    perspective. It replaces `pools.council` while set."""

    upstream: str = SELF_ACTOR
    """The upstream id to sample, or `actor`: the turn's own actor."""
    samples: int = Field(3, ge=1, le=16)
    """How many times it is asked (one advisor seat each)."""
    temperatures: list[float] = Field(default_factory=list)
    """Temperature of each sample in turn (sample i takes item i mod length); empty: the
    upstream's default. Anthropic's API accepts at most 1, OpenAI's at most 2."""
    perspectives: list[str] = Field(default_factory=list)
    """A stance for each sample in turn (sample i takes item i mod length); empty: none."""

    @field_validator("temperatures")
    @classmethod
    def _check_temperatures(cls, values: list[float]) -> list[float]:
        bad = [v for v in values if not 0 <= v <= 2]
        if bad:
            raise ValueError(f"temperatures must lie in 0..2, got {bad[0]:g}")
        return values

    @field_validator("perspectives")
    @classmethod
    def _check_perspectives(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("a perspective must not be empty")
        return values


class CouncilSignals(_Strict):
    """Signals that convene a council on a tool turn that `council.trigger`'s tier alone
    would not (each off until set). The route says which one did (`council_signal:...`)."""

    top_score_below: float | None = Field(None, gt=0, le=1)
    """The gate was unsure: its winning tier's score is under this."""
    plan_margin_below: float | None = Field(None, gt=0, le=1)
    """Plan came close: the gate chose another tier, but plan's score is within this of
    the winner's."""
    failing_tools: bool = False
    """The agent keeps failing: the route was escalated for a run of failing tool results
    (`routing.escalation`, reason `escalated:<n>_failures`)."""


class CouncilSettings(_Strict):
    """Council-then-act: advisors deliberate as text, a judge briefs, one actor acts."""

    enabled: bool = True
    """Convene councils at all."""
    trigger: Literal["plan", "regular", "always", "off"] = "plan"
    """Lowest tier of a tool turn that convenes a council (always: every tool turn; off:
    only `signals` convene one)."""
    signals: CouncilSignals = Field(default_factory=CouncilSignals)
    """Convene below the trigger's tier on the gate's doubt or the agent's failures."""
    deadline_s: float = Field(45.0, gt=0)
    """Advisors still thinking at this point are cut (their partial text kept, marked)."""
    quorum: int = Field(1, ge=0)
    """Advisors that must finish in time; below it the actor goes alone (and says so)."""
    synthesize: bool = True
    """true: the judge writes a briefing; false: the judge is skipped and the actor gets the
    advisors' anonymised opinions under a fixed header (route `judge:skipped`)."""
    advisor_max_tokens: int = Field(600, ge=16)
    """Longest opinion, in tokens."""
    judge_max_tokens: int = Field(700, ge=16)
    """Longest briefing, in tokens."""
    hold: HoldMode = HoldMode.OFF
    """Hold the briefing for a person (with a dashboard attached) before the actor acts."""
    hold_timeout_s: float = Field(120.0, gt=0)
    """How long a held briefing waits for a person."""
    hold_timeout_action: HoldTimeoutAction = HoldTimeoutAction.APPROVE
    """What happens when nobody decides in time: use the briefing, or act without it."""
    budget_usd: float | None = Field(None, ge=0)
    """Council spending per session; once spent, councils stop convening (and say so)."""
    ping_interval_s: float = Field(3.0, gt=0)
    """How often a streaming client gets a keep-alive while the council sits."""
    include_actor: bool = False
    """Let the session's actor also sit on its own council (default: advisors exclude it)."""
    advisors: dict[str, AdvisorSettings] = Field(default_factory=dict)
    """Per-advisor options, by upstream id."""
    self_consistency: SelfConsistencySettings | None = None
    """Sample one upstream N times as the council instead of `pools.council` (null: off)."""

    @field_validator("hold", "trigger", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        # YAML 1.1 reads a bare `off` as false; people mean the word.
        return "off" if value is False else value


class PanelSettings(_Strict):
    """The panel answers tool-free hard requests in parallel."""

    method: PanelMethod = PanelMethod.SYNTHESIZE
    """synthesize: the judge fuses the answers; rank: the judge picks the best, returned as is."""
    deadline_s: float = Field(60.0, gt=0)
    """Members still answering at this point are cut."""
    max_tokens: int | None = Field(None, ge=16)
    """Cap on each member's answer (default: the client's max_tokens)."""


class _Upstream(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...


ANTHROPIC_MAX_TEMPERATURE = 1.0


def check_self_consistency(cfg: SelfConsistencySettings | None, upstreams: Sequence[_Upstream],
                           actors: Sequence[str]) -> None:
    """Raise ValueError when `council.self_consistency` names an unknown upstream, or asks an
    Anthropic upstream (the named one, or any actor for `actor`) for a temperature above 1."""
    if cfg is None:
        return
    by_id = {u.id: u for u in upstreams}
    if cfg.upstream != SELF_ACTOR and cfg.upstream not in by_id:
        raise ValueError(f"council.self_consistency.upstream names '{cfg.upstream}', which is "
                         f"neither `{SELF_ACTOR}` nor an upstream id "
                         f"(known: {', '.join(by_id) or 'none'})")
    sampled = actors if cfg.upstream == SELF_ACTOR else [cfg.upstream]
    hot = max(cfg.temperatures, default=0.0)
    for uid in sampled:
        if uid in by_id and by_id[uid].type == "anthropic" and hot > ANTHROPIC_MAX_TEMPERATURE:
            raise ValueError(f"council.self_consistency.temperatures: {hot:g} is above 1, the "
                             f"most Anthropic's API accepts, and '{uid}' is an anthropic "
                             "upstream that would be sampled")
