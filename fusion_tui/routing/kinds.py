"""Request kinds, decided before tiers. Sans-IO: the gate measures, this module decides.

Not every request is the user's next step. The session-title request and compaction are the
harness's own chores; a sub-agent turn is work the main agent delegated, judged on the task
it was given. The rules, stated once here and in docs/routing.md:

- **title**: the request declares no tools (`tools: []`) *and* asks for JSON-schema output
  (Claude Code's title request), or its instructions read like a title request (meaning:
  similarity to title exemplars beating the counter-exemplars). Routed `compact`.
- **compaction**: the latest user text reads like a request to summarise the whole
  conversation for a fresh context (meaning, as before). Routed `compact`, whatever the
  permission mode: a `/compact` in plan mode is still compaction.
- **subagent**: the system prompt reads like a delegated agent's rather than the main
  agent's (meaning). Not a chore: the classifier judges it on its own task; the reason says
  `kind:subagent` and the decision carries a lane id (the task's hash) so a dashboard can show
  it under its parent session.
- **main**: everything else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from fusion_tui.routing.segments import Structure


class RequestKind(StrEnum):
    """What a request is, before how hard it is."""

    MAIN = "main"
    TITLE = "title"
    COMPACTION = "compaction"
    SUBAGENT = "subagent"


CHORE_TIER = {RequestKind.TITLE: "compact", RequestKind.COMPACTION: "compact"}
"""The tier each harness chore is routed at (the documented rule)."""

SUBAGENT_FLOOR = 0.40
SUBAGENT_MARGIN = 0.08
"""A system prompt is a sub-agent's when it is at least this similar to the sub-agent
exemplars and this much closer to them than to the main agent's. A system prompt is long and
shares most of its words with the main one, so similarity alone stays low; the margin is what
separates them (on the real captures' train split: main prompts at most +0.02, sub-agents'
at least +0.12, with the test model)."""


@dataclass(frozen=True)
class KindSignals:
    """Best cosine similarities to each kind's exemplars and counter-exemplars (None: the
    request had no text to compare)."""

    title: float | None = None
    title_negative: float | None = None
    compaction: float | None = None
    compaction_negative: float | None = None
    subagent: float | None = None
    main_agent: float | None = None


@dataclass(frozen=True)
class KindVerdict:
    """The kind, and why (`structure` or `meaning`)."""

    kind: RequestKind
    evidence: str = ""


def _beats(score: float | None, against: float | None, threshold: float, margin: float) -> bool:
    if score is None:
        return False
    return score >= threshold and score >= (against or 0.0) + margin


def decide_kind(structure: Structure, signals: KindSignals, threshold: float,
                margin: float) -> KindVerdict:
    """The request's kind from its structure and the similarity signals."""
    if structure.tools_declared_empty and structure.structured_output:
        return KindVerdict(RequestKind.TITLE, "structure")
    if _beats(signals.compaction, signals.compaction_negative, threshold, margin):
        return KindVerdict(RequestKind.COMPACTION, "meaning")
    if structure.tools_offered == 0 and _beats(signals.title, signals.title_negative,
                                               threshold, margin):
        return KindVerdict(RequestKind.TITLE, "meaning")
    if _beats(signals.subagent, signals.main_agent, SUBAGENT_FLOOR, SUBAGENT_MARGIN):
        return KindVerdict(RequestKind.SUBAGENT, "meaning")
    return KindVerdict(RequestKind.MAIN)


def lane_id(task: str) -> str:
    """A short stable id for a sub-agent's lane: the hash of the task it was given."""
    return hashlib.sha256(task.strip().encode("utf-8", "surrogatepass")).hexdigest()[:10]
