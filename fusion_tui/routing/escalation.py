"""Escalation on failure: a run of failing tool results raises the next turn's tier; a
passing result ends the run and the tier falls back to the gate's. Sans-IO."""

from __future__ import annotations

from dataclasses import dataclass

from fusion_tui.config.spend import EscalationSettings
from fusion_tui.config.tiers import TIER_RANK, TIERS, Tier
from fusion_tui.routing.explain import ReasonPart
from fusion_tui.routing.failures import FailureReport


@dataclass(frozen=True)
class Escalation:
    """A raised tier and why."""

    from_tier: Tier
    to_tier: Tier
    failures: int

    @property
    def reason(self) -> ReasonPart:
        """`escalated:<n>_failures`."""
        return ReasonPart("escalated", f"{self.failures}_failures")


def escalate(tier: Tier, report: FailureReport,
             settings: EscalationSettings) -> Escalation | None:
    """The raised tier when the latest `after_failures` tool results (or more) all failed;
    None when the rule does not fire or the tier is already the highest."""
    if not settings.enabled or report.streak < settings.after_failures:
        return None
    raised = Tier(TIERS[min(len(TIERS) - 1, TIER_RANK[tier] + settings.steps)])
    if raised == tier:
        return None
    return Escalation(tier, raised, report.streak)
