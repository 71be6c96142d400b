"""Settings of the council (advisors, judge, actor), the panel, and prices."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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


class CouncilSettings(_Strict):
    """Council-then-act: advisors deliberate as text, a judge briefs, one actor acts."""

    enabled: bool = True
    """Convene councils at all."""
    trigger: Literal["plan", "regular", "always", "off"] = "plan"
    """Lowest tier of a tool turn that convenes a council (always: every tool turn)."""
    deadline_s: float = Field(45.0, gt=0)
    """Advisors still thinking at this point are cut (their partial text kept, marked)."""
    quorum: int = Field(1, ge=0)
    """Advisors that must finish in time; below it the actor goes alone (and says so)."""
    synthesize: bool = True
    """true: the judge writes a briefing; false: the labelled opinions are injected raw."""
    advisor_max_tokens: int = Field(600, ge=16)
    """Longest opinion, in tokens."""
    judge_max_tokens: int = Field(700, ge=16)
    """Longest briefing, in tokens."""
    hold: Literal["off", "plan", "always"] = "off"
    """Hold the briefing for a person (with a dashboard attached) before the actor acts."""
    hold_timeout_s: float = Field(120.0, gt=0)
    """How long a held briefing waits for a person."""
    hold_timeout_action: Literal["approve", "skip"] = "approve"
    """What happens when nobody decides in time: use the briefing, or act without it."""
    budget_usd: float | None = Field(None, ge=0)
    """Council spending per session; once spent, councils stop convening (and say so)."""
    ping_interval_s: float = Field(3.0, gt=0)
    """How often a streaming client gets a keep-alive while the council sits."""
    include_actor: bool = False
    """Let the session's actor also sit on its own council (default: advisors exclude it)."""
    advisors: dict[str, AdvisorSettings] = Field(default_factory=dict)
    """Per-advisor options, by upstream id."""

    @field_validator("hold", "trigger", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        # YAML 1.1 reads a bare `off` as false; people mean the word.
        return "off" if value is False else value


class PanelSettings(_Strict):
    """The panel answers tool-free hard requests in parallel."""

    method: Literal["synthesize", "rank"] = "synthesize"
    """synthesize: the judge fuses the answers; rank: the judge picks the best, returned as is."""
    deadline_s: float = Field(60.0, gt=0)
    """Members still answering at this point are cut."""
    max_tokens: int | None = Field(None, ge=16)
    """Cap on each member's answer (default: the client's max_tokens)."""
