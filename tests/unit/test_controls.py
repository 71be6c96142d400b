"""The steering API: state it keeps, events it publishes, errors for impossible acts."""

from __future__ import annotations

import asyncio

import pytest

from fusion_tui.core.controls import DROP_STICKS_S, Controls, InFlight, SteeringError
from fusion_tui.council.hold import HoldDesk
from fusion_tui.events import Event, SteeringApplied
from fusion_tui.routing.router import PinTable


def controls() -> tuple[Controls, list[Event]]:
    events: list[Event] = []
    return Controls(["a", "b", "c"], PinTable(), events.append, HoldDesk()), events


def test_force_next_tier_is_one_shot_and_lock_persists() -> None:
    ctl, events = controls()
    ctl.force_next_tier("s", "plan")
    assert ctl.tier_for("s") == ("plan", "override:ui")
    assert ctl.tier_for("s") == (None, None)
    ctl.lock_tier("s", "compact")
    assert ctl.tier_for("s")[0] == "compact" and ctl.tier_for("s")[0] == "compact"
    ctl.lock_tier("s", None)
    assert ctl.tier_for("s")[0] is None
    assert [e.action for e in events if isinstance(e, SteeringApplied)] == [
        "force_tier", "lock_tier", "auto_tier"]
    with pytest.raises(SteeringError):
        ctl.force_next_tier("s", "huge")


def test_swap_actor_pins_and_rejects_unknown() -> None:
    ctl, _ = controls()
    ctl.swap_actor("s", "b")
    assert ctl.pins.get("s") == "b"
    with pytest.raises(SteeringError, match="no upstream 'z'"):
        ctl.swap_actor("s", "z")
    ctl.unpin("s")
    assert ctl.pins.get("s") is None


def test_mute_per_session_and_globally() -> None:
    ctl, _ = controls()
    ctl.mute_advisor("a", session_id="s1")
    ctl.mute_advisor("b")
    assert ctl.advisors_for("s1", ["a", "b", "c"]) == ["c"]
    assert ctl.advisors_for("s2", ["a", "b", "c"]) == ["a", "c"]
    ctl.mute_advisor("b", muted=False)
    assert ctl.advisors_for("s2", ["a", "b", "c"]) == ["a", "b", "c"]


def test_council_switch_session_beats_global_beats_config() -> None:
    ctl, _ = controls()
    assert ctl.council_enabled("s", True)
    ctl.set_council(False)
    assert not ctl.council_enabled("s", True)
    ctl.set_council(True, session_id="s")
    assert ctl.council_enabled("s", False) and not ctl.council_enabled("t", True)


async def test_decide_held_briefing_and_drop_in_flight() -> None:
    ctl, events = controls()
    ctl.hold_desk.attached = True
    waiting = asyncio.create_task(ctl.hold_desk.wait("r1", "brief", 5, "approve"))
    await asyncio.sleep(0)
    ctl.decide_briefing("r1", "edit", "better brief")
    assert (await waiting).text == "better brief"
    with pytest.raises(SteeringError):
        ctl.decide_briefing("r1", "approve")

    async def serve() -> str:
        ctl.track("r2", "s")
        await asyncio.sleep(10)
        return "finished"

    task = asyncio.create_task(serve())
    await asyncio.sleep(0)
    ctl.drop("r2", source="script")
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ctl.was_dropped("r2") and ctl.dropped_by("r2") == "script"
    assert not ctl.was_dropped("r1") and ctl.dropped_by("nope") is None
    assert events[-1].action == "drop"  # type: ignore[attr-defined]
    assert ctl.take_note("s") == "override:script"  # the session's next response says it
    with pytest.raises(SteeringError):
        ctl.drop("nope")


async def test_a_briefing_decision_leaves_no_note_for_the_next_request() -> None:
    ctl, events = controls()
    ctl.track("r1", "s")
    waiting = asyncio.create_task(ctl.hold_desk.wait("r1", "brief", 5, "approve"))
    await asyncio.sleep(0)
    ctl.decide_briefing("r1", "approve")
    assert (await waiting).decision == "approve"
    assert events[-1].session_id == "s" and events[-1].action == "briefing_approve"  # type: ignore[attr-defined]
    assert ctl.take_note("s") is None


@pytest.mark.parametrize("act", [
    lambda ctl: ctl.set_hold("always"),
    lambda ctl: ctl.set_council(False),
    lambda ctl: ctl.mute_advisor("a"),
])
def test_a_global_act_reaches_every_sessions_next_note_once(act) -> None:
    ctl, events = controls()
    ctl.take_note("old")  # a session seen before the act
    act(ctl)
    assert events[-1].session_id == ""
    for session in ("old", "s1", "s2"):  # s1, s2: first seen after the act
        assert ctl.tier_for(session) == (None, "override:ui")
        assert ctl.take_note(session) is None


def test_global_and_session_notes_merge_by_source() -> None:
    ctl, _ = controls()
    ctl.set_hold("plan", source="script")
    ctl.mute_advisor("b", session_id="s")
    ctl.set_council(False)
    assert ctl.take_note("s") == "override:script,override:ui"  # one token per source
    assert ctl.take_note("t") == "override:script,override:ui"
    ctl.set_hold("off", source="script")
    assert ctl.take_note("s") == "override:script"  # only what came after its last note
    ctl.lock_tier("s", "plan")
    assert ctl.take_note("s") == "override:ui"
    assert ctl.take_note("t") == "override:script"


def test_the_seen_table_is_bounded() -> None:
    ctl = Controls(["a"], PinTable(max_sessions=2), lambda event: None, HoldDesk())
    ctl.set_hold("plan")
    for session in ("s1", "s2", "s3"):
        assert ctl.take_note(session) == "override:ui"
    assert len(ctl._seen) == 2
    assert ctl.take_note("s3") is None


def composing() -> Controls:
    return Controls(["a1", "a2", "x", "y", "j1", "j2"], PinTable(), lambda e: None, HoldDesk())


def test_compose_applies_global_then_session_changes() -> None:
    ctl = composing()
    plain = ctl.compose("s", ["a1", "a2"], ["j1"], {"a1": "configured"})
    assert (plain.advisors, plain.judge, plain.perspectives, plain.steered) == (
        ["a1", "a2"], "j1", {"a1": "configured"}, [])
    ctl.add_advisor("x")  # everywhere
    ctl.replace_advisor("a1", "y", "s")  # this session
    ctl.set_perspective("a2", "  skeptic  ", "s")
    ctl.set_judge("j2", "s")
    got = ctl.compose("s", ["a1", "a2"], ["j1"], {"a1": "configured"})
    assert got.advisors == ["y", "a2", "x"]
    assert got.judge == "j2"
    assert got.perspectives == {"a2": "skeptic"}  # a1 left, its stance with it
    assert got.steered == ["added", "replaced", "judge", "perspective"]
    other = ctl.compose("t", ["a1", "a2"], ["j1"], {})
    assert (other.advisors, other.judge, other.steered) == (["a1", "a2", "x"], "j1", ["added"])


def test_mute_wins_over_an_addition_and_adding_unmutes() -> None:
    ctl = composing()
    ctl.add_advisor("x", "s")
    ctl.mute_advisor("x", True, "s")
    assert ctl.compose("s", ["a1"], [], {}).advisors == ["a1"]
    ctl.add_advisor("x", "s")
    assert ctl.compose("s", ["a1"], [], {}).advisors == ["a1", "x"]


def test_composition_refusals_and_undo() -> None:
    ctl = composing()
    with pytest.raises(SteeringError, match="no upstream 'ghost'"):
        ctl.add_advisor("ghost")
    with pytest.raises(SteeringError, match="cannot replace itself"):
        ctl.replace_advisor("a1", "a1")
    with pytest.raises(SteeringError, match="was not added"):
        ctl.remove_advisor("x", "s")
    ctl.replace_advisor("a1", "x", "s")
    ctl.remove_advisor("x", "s")
    assert ctl.compose("s", ["a1", "a2"], ["j1"], {}).advisors == ["a1", "a2"]
    ctl.set_judge("j2")
    ctl.set_judge(None)
    assert ctl.compose("s", ["a1"], ["j1"], {}).judge == "j1"


async def test_a_dropped_conversation_is_refused_again_until_the_client_moves_on() -> None:
    now = [100.0]
    ctl = Controls(["a"], PinTable(), lambda e: None, HoldDesk(), clock=lambda: now[0])
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}

    async def serve() -> None:
        await asyncio.sleep(10)

    task = asyncio.ensure_future(serve())
    await asyncio.sleep(0)
    ctl.inflight["r1"] = InFlight("s", task, body=body)
    ctl.drop("r1", source="attach")
    retry = {**body, "stream": False, "max_tokens": 7}
    assert ctl.dropped_before("s", retry) == "attach"
    assert ctl.dropped_before("other", retry) is None
    now[0] += DROP_STICKS_S + 1
    assert ctl.dropped_before("s", retry) is None  # expired, and forgotten
    ctl.inflight["r2"] = InFlight("s", asyncio.ensure_future(serve()), body=body)
    ctl.drop("r2")
    assert ctl.dropped_before("s", {"messages": [{"role": "user", "content": "new"}]}) is None
    assert ctl.dropped_before("s", retry) is None  # the client moved on: forgotten
    await asyncio.sleep(0)
