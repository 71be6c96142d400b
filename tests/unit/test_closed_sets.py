"""Closed sets are StrEnums whose values are the strings the proxy always wrote: recordings
made before the enums still replay, typed, and a value outside its set is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fusion_tui.config.council import CouncilSettings, HoldMode, HoldTimeoutAction, PanelMethod
from fusion_tui.core.controls import Controls, SteeringError
from fusion_tui.council.hold import HoldDesk
from fusion_tui.council.orchestrator import CouncilStatus
from fusion_tui.events import (
    AdvisorFinished,
    AnswerState,
    BreakerChanged,
    BriefingDecided,
    BriefingDecision,
    BudgetScope,
    BudgetState,
    CircuitState,
    ClassifierState,
    CostRecorded,
    CostStage,
    PanelMemberFinished,
)
from fusion_tui.events.codec import encode_line
from fusion_tui.events.council import CouncilTrigger
from fusion_tui.routing.router import PinTable
from fusion_tui.sessions.replay import read_recording

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sessions"

# The values recordings, the event stream and the config file have always held.
WIRE_VALUES = {
    AnswerState: ["ok", "partial", "failed"],
    BriefingDecision: ["approve", "edit", "skip", "timeout"],
    CostStage: ["advisor", "judge", "actor", "panel"],
    HoldMode: ["off", "plan", "always"],
    HoldTimeoutAction: ["approve", "skip"],
    PanelMethod: ["synthesize", "rank"],
    CouncilStatus: ["briefed", "failed", "skipped"],
    CouncilTrigger: ["tier", "always", "failing_tools", "close_to_plan", "unsure"],
    BudgetScope: ["session", "daily"],
    BudgetState: ["near", "spent"],
    CircuitState: ["closed", "open", "half_open"],
    ClassifierState: ["idle", "loading", "ready", "failed", "disabled"],
}

# Lines as a proxy wrote them before these fields were enums (schema 2, plain strings).
OLD_LINES = [
    '{"kind":"advisor_finished","session_id":"s","request_id":"r","seq":1,"t":1.0,"ts":2.0,'
    '"advisor":"a","state":"partial","text":"half","error":"cut at the 45s deadline",'
    '"input_tokens":3,"output_tokens":4,"latency_ms":5.0}',
    '{"kind":"panel_member_finished","session_id":"s","request_id":"r","seq":2,"t":1.0,'
    '"ts":2.0,"member":"m","state":"failed","text":"","error":"boom","output_tokens":0,'
    '"latency_ms":1.0}',
    '{"kind":"briefing_decided","session_id":"s","request_id":"r","seq":3,"t":1.0,"ts":2.0,'
    '"decision":"timeout","text":"brief","source":"timeout"}',
    '{"kind":"cost_recorded","session_id":"s","request_id":"r","seq":4,"t":1.0,"ts":2.0,'
    '"upstream_id":"u","stage":"judge","input_tokens":1,"output_tokens":2,'
    '"cache_read_tokens":0,"cache_write_tokens":0,"cost_usd":0.5,"session_total_usd":0.5,'
    '"priced":true}',
    '{"kind":"breaker_changed","session_id":"","request_id":"","seq":5,"t":1.0,"ts":2.0,'
    '"upstream_id":"u","state":"half_open","reason":"probe due"}',
]


@pytest.mark.parametrize("enum", list(WIRE_VALUES), ids=lambda e: e.__name__)
def test_values_are_the_strings_always_written(enum):
    assert [member.value for member in enum] == WIRE_VALUES[enum]
    assert all(member == member.value and f"{member}" == member.value for member in enum)


def _recording(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "old.jsonl"
    header = '{"kind":"header","schema":2,"session_id":"s","created":1.0}'
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_an_old_recording_replays_typed_and_writes_back_the_same_bytes(tmp_path):
    recording = read_recording(_recording(tmp_path, OLD_LINES))
    assert recording.skipped == []
    advisor, member, decided, cost, breaker = recording.events
    assert isinstance(advisor, AdvisorFinished) and advisor.state is AnswerState.PARTIAL
    assert isinstance(member, PanelMemberFinished) and member.state is AnswerState.FAILED
    assert isinstance(decided, BriefingDecided) and decided.decision is BriefingDecision.TIMEOUT
    assert isinstance(cost, CostRecorded) and cost.stage is CostStage.JUDGE
    assert isinstance(breaker, BreakerChanged) and breaker.state is CircuitState.HALF_OPEN
    assert [encode_line(e) for e in recording.events] == OLD_LINES


@pytest.mark.parametrize("name", ["council-demo.jsonl", "tui-demo.jsonl"])
def test_the_shipped_recordings_replay_whole(name):
    recording = read_recording(FIXTURES / name)
    assert recording.events and recording.skipped == []
    stages = {e.stage for e in recording.events if isinstance(e, CostRecorded)}
    assert all(isinstance(stage, CostStage) for stage in stages)


def test_a_value_outside_its_set_is_skipped_by_name(tmp_path):
    bad = OLD_LINES[3].replace('"stage":"judge"', '"stage":"wizard"')
    recording = read_recording(_recording(tmp_path, [OLD_LINES[0], bad]))
    assert [type(e) for e in recording.events] == [AdvisorFinished]
    assert len(recording.skipped) == 1
    assert "cost_recorded.stage: 'wizard' is not one of advisor, judge, actor, panel" in (
        recording.skipped[0])


def test_a_live_event_encodes_its_enum_as_the_plain_value():
    event = CostRecorded(upstream_id="u", stage=CostStage.PANEL)
    assert json.loads(encode_line(event))["stage"] == "panel"


def test_hold_mode_from_config_and_from_steering():
    assert CouncilSettings.model_validate({"hold": False}).hold is HoldMode.OFF
    assert CouncilSettings.model_validate({"hold": "plan"}).hold is HoldMode.PLAN
    controls = Controls(["u"], PinTable(), lambda event: None, HoldDesk())
    controls.set_hold("always")
    assert controls.hold_mode is HoldMode.ALWAYS
    with pytest.raises(SteeringError, match="hold must be one of off, plan, always"):
        controls.set_hold("sometimes")
    assert controls.hold_mode is HoldMode.ALWAYS


def test_a_person_decides_with_the_enum_or_its_value():
    desk = HoldDesk()
    with pytest.raises(ValueError, match="decision must be one of approve, edit, skip"):
        desk.decide("r", "timeout")
    assert desk.decide("r", BriefingDecision.APPROVE) is False  # nothing held under r
