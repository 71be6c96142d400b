"""The steering API: state it keeps, events it publishes, errors for impossible acts."""

from __future__ import annotations

import asyncio

import pytest

from fusion_tui.core.controls import Controls, SteeringError
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
    ctl.drop("r2")
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ctl.was_dropped("r2")
    assert events[-1].action == "drop"  # type: ignore[attr-defined]
    with pytest.raises(SteeringError):
        ctl.drop("nope")
