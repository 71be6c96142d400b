"""The contract between the core and everything that watches it.

Events are frozen dataclasses named in the past tense. The bus delivers them; the codec writes
and reads them as JSON lines. This package uses the standard library only.
"""

from fusion_tui.events.bus import EventBus, Subscription
from fusion_tui.events.codec import SCHEMA_VERSION, decode_event, encode_event
from fusion_tui.events.council import (
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
    PanelMemberFinished,
)
from fusion_tui.events.model import (
    EVENT_TYPES,
    BreakerChanged,
    ClassifierStateChanged,
    Event,
    GateDecided,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
    SessionPinned,
    SteeringApplied,
    StreamStarted,
    TranslationNote,
    UpstreamFailed,
)
from fusion_tui.events.spend import BudgetReached, TierEscalated, TurnPriced

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "ActorStarted",
    "ActorToolCalled",
    "AdvisorDelta",
    "AdvisorFinished",
    "BreakerChanged",
    "BriefingDecided",
    "BriefingDelta",
    "BriefingHeld",
    "BriefingReady",
    "BudgetReached",
    "ClassifierStateChanged",
    "CostRecorded",
    "CouncilConvened",
    "CouncilFailed",
    "CouncilSkipped",
    "Event",
    "EventBus",
    "GateDecided",
    "PanelMemberFinished",
    "RequestCancelled",
    "RequestReceived",
    "ResponseFinished",
    "RouteChosen",
    "SessionPinned",
    "SteeringApplied",
    "StreamStarted",
    "Subscription",
    "TierEscalated",
    "TranslationNote",
    "TurnPriced",
    "UpstreamFailed",
    "decode_event",
    "encode_event",
]
