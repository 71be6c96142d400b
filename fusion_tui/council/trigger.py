"""Whether a tool turn convenes a council, and why: the tier (council.trigger), or one of
the signals (council.signals) that convene below it, the gate's doubt or the agent's
failures. Sans-IO: plain facts in, a reason out."""

from __future__ import annotations

from collections.abc import Mapping

from fusion_tui.config.council import CouncilSettings
from fusion_tui.config.tiers import TIER_RANK, Tier
from fusion_tui.events.council import CouncilTrigger

__all__ = ["CouncilTrigger", "council_trigger"]


def council_trigger(settings: CouncilSettings, tier: Tier | None,
                    scores: Mapping[str, float] | None, escalated: bool) -> CouncilTrigger | None:
    """Why a tool turn at `tier` convenes a council (None: it does not). `scores` are the
    gate's per-tier scores (None or empty when no gate judged the turn); `escalated` says
    the route was raised for failing tool results. The tier is checked first, then the
    failures, then plan's closeness, then the gate's doubt."""
    trigger = settings.trigger
    if trigger == "always":
        return CouncilTrigger.ALWAYS
    if trigger != "off" and tier is not None and TIER_RANK[tier] >= TIER_RANK[trigger]:
        return CouncilTrigger.TIER
    signals = settings.signals
    if signals.failing_tools and escalated:
        return CouncilTrigger.FAILING_TOOLS
    if not scores:
        return None
    winner, top = max(scores.items(), key=lambda item: item[1])
    margin = signals.plan_margin_below
    if margin is not None and winner != Tier.PLAN and Tier.PLAN in scores \
            and top - scores[Tier.PLAN] < margin:
        return CouncilTrigger.CLOSE_TO_PLAN
    if signals.top_score_below is not None and top < signals.top_score_below:
        return CouncilTrigger.UNSURE
    return None
