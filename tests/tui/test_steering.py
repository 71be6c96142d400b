"""Every steering key, pressed with Pilot: the control it calls and what that changed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TextArea

from fusion_tui.core.controls import Controls
from fusion_tui.events import EventBus, SteeringApplied
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens.confirm import ConfirmScreen
from fusion_tui.tui.screens.dashboard import DashboardScreen
from fusion_tui.tui.screens.picker import PickerScreen
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from fusion_tui.tui.widgets.session_list import SessionList
from tests.tui.conftest import WAIT_S, DashboardDriver, wait_until
from tests.tui.council_factory import INFO, SESSION, Clock, council_turn, make_controls

SIZE = (140, 40)


@dataclass
class Room(DashboardDriver):
    """A running dashboard with controls and one session with a council behind it."""

    app: FusionApp
    pilot: Pilot[Any]
    bus: EventBus
    controls: Controls

    def steering(self) -> list[SteeringApplied]:
        feed = self.screen.query_one(RequestFeed)
        return [r for r in feed.rows_model.values() if r.steering]  # type: ignore[misc]


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    bus = EventBus()
    controls = make_controls(bus)
    app = FusionApp(bus, info=INFO, controls=controls, clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        for event in council_turn(Clock(), 1):
            bus.publish(event)
        r = Room(app, pilot, bus, controls)
        await wait_until(pilot, lambda: r.screen.selected == SESSION and r.screen.settled)
        yield r


async def feed_shows(room: Room, text: str) -> None:
    feed = room.screen.query_one(RequestFeed)
    await wait_until(room.pilot, lambda: any(text in r.steering
                                             for r in feed.rows_model.values()))


@pytest.mark.parametrize(("key", "tier"), [("1", "compact"), ("2", "regular"),
                                           ("3", "plan")])
async def test_force_next_tier(room: Room, key: str, tier: str) -> None:
    await room.press(key)
    assert room.controls.tier_for(SESSION)[0] == tier
    assert room.controls.tier_for(SESSION)[0] is None  # one turn only
    await feed_shows(room, f"force_tier {SESSION} {tier}")


async def test_lock_tier_then_back_to_auto(room: Room) -> None:
    await room.press("l")
    assert isinstance(room.app.screen, PickerScreen)
    await room.press("down", "down", "enter")  # compact, regular, [plan]
    assert room.controls.sessions[SESSION].locked_tier == "plan"
    assert room.controls.tier_for(SESSION)[0] == "plan"
    assert room.controls.tier_for(SESSION)[0] == "plan"  # locked: every turn
    await room.press("0")
    assert room.controls.tier_for(SESSION)[0] is None
    await feed_shows(room, "auto_tier")


async def test_swap_actor_picks_a_configured_upstream(room: Room) -> None:
    await room.press("a")
    picker = room.app.screen
    assert isinstance(picker, PickerScreen)
    ids = [oid for oid, _ in picker.options]
    assert ids[:4] == ["sim-actor", "opus", "sim-architect", "sim-fast"]
    await room.press("down", "down", "enter")  # opus (no key) is skipped: sim-fast
    assert room.controls.sessions[SESSION].actor == "sim-fast"
    assert room.controls.pins.get(SESSION) == "sim-fast"
    await feed_shows(room, "swap_actor")


async def test_swap_to_an_actor_without_a_key_is_refused_in_the_picker(room: Room) -> None:
    await room.press("a")
    picker = room.app.screen
    assert isinstance(picker, PickerScreen)
    options = picker.query_one(OptionList)
    opus = options.get_option("opus")
    assert opus.disabled and "key missing" in str(opus.prompt)
    assert "no API key" in str(picker.query_one(".dialog-note", Static).render())
    picker.dismiss("opus")  # chosen anyway (a remapped or scripted pick): still refused
    await room.pilot.pause()
    assert room.controls.sessions.get(SESSION) is None or \
        room.controls.sessions[SESSION].actor != "opus"
    assert any(n.title == "swap refused" and "opus" in n.message
               for n in room.app._notifications)


async def test_mute_advisor_for_the_session_then_everywhere(room: Room) -> None:
    pool = ["sim-architect", "sim-skeptic", "sim-tester"]
    await room.press("v")
    assert isinstance(room.app.screen, PickerScreen)
    await room.press("down", "down", "enter")  # mute sim-skeptic in this session
    assert room.controls.advisors_for(SESSION, pool) == ["sim-architect", "sim-tester"]
    assert room.controls.advisors_for("other", pool) == pool
    await room.press("v")
    await room.press(*["down"] * 5, "enter")  # mute sim-tester everywhere
    assert room.controls.advisors_for("other", pool) == ["sim-architect", "sim-skeptic"]
    await room.press("v")
    options = room.app.screen.query_one(OptionList)
    assert "unmute sim-tester everywhere" in str(options.get_option_at_index(5).prompt)
    await room.press(*["down"] * 5, "enter")
    assert room.controls.advisors_for("other", pool) == pool
    await feed_shows(room, "unmute_advisor")


async def test_council_toggle(room: Room) -> None:
    status = room.screen.query_one(StatusBar)
    await room.press("c")
    assert room.controls.council_enabled(SESSION, True) is False
    assert room.controls.council_enabled("other", True) is True
    await wait_until(room.pilot, lambda: "council off (session; all on)"
                     in status.render().plain)
    await room.press("c")
    assert room.controls.council_enabled(SESSION, True) is True
    await wait_until(room.pilot, lambda: "council on (session; all on)"
                     in status.render().plain)


async def test_shift_c_toggles_councils_everywhere_while_a_session_is_selected(
        room: Room) -> None:
    status = room.screen.query_one(StatusBar)
    assert room.screen.selected == SESSION
    await room.press("C")
    assert room.controls.council_globally is False
    assert room.controls.council_enabled("other", True) is False
    assert room.controls.council_enabled(SESSION, True) is False
    await wait_until(room.pilot, lambda: "council off" in status.render().plain)
    await feed_shows(room, "council global off")
    await room.press("c")  # the session's own setting wins over the global one
    assert room.controls.council_enabled(SESSION, True) is True
    await wait_until(room.pilot, lambda: "council on (session; all off)"
                     in status.render().plain)
    await room.press("C")
    assert room.controls.council_globally is True


async def test_hold_cycles_off_plan_always(room: Room) -> None:
    status = room.screen.query_one(StatusBar)
    assert "hold off" in status.render().plain
    for mode in ("plan", "always", "off"):
        await room.press("h")
        assert room.controls.hold_mode == mode
        shown = f"hold {mode}"
        await wait_until(room.pilot, lambda: shown in status.render().plain)  # noqa: B023


async def test_hold_desk_is_attached_while_the_dashboard_runs(room: Room) -> None:
    assert room.controls.hold_desk.attached


async def held(room: Room, n: int = 2) -> asyncio.Task[Any]:
    desk = room.controls.hold_desk
    rid = f"req_{n:04d}"
    task = asyncio.ensure_future(desk.wait(rid, "the briefing", 30.0, "approve"))
    for event in council_turn(Clock(), n, brief="held"):
        room.bus.publish(event)
    await wait_until(room.pilot, lambda: room.screen.held_request() == rid
                     and rid in desk.pending)
    return task


async def test_enter_approves_a_held_briefing(room: Room) -> None:
    task = await held(room)
    await room.press("enter")
    decision = await asyncio.wait_for(task, WAIT_S)
    assert (decision.decision, decision.text) == ("approve", "the briefing")


async def test_enter_in_the_filter_box_or_on_the_feed_does_not_approve(room: Room) -> None:
    task = await held(room)
    await room.press("slash", *"cc-7f", "enter")
    feed = room.screen.query_one(RequestFeed)
    assert feed.filter_text == "cc-7f"
    assert room.app.focused is feed
    await room.press("enter")  # on the feed: the row's reason
    assert "route: mode=council" in str(room.screen.query_one("#detail").render())
    await asyncio.sleep(0.05)
    assert not task.done() and "req_0002" in room.controls.hold_desk.pending
    room.screen.query_one(SessionList).focus()
    await room.press("enter")
    decision = await asyncio.wait_for(task, WAIT_S)
    assert decision.decision == "approve"


async def test_s_skips_a_held_briefing(room: Room) -> None:
    task = await held(room)
    await room.press("s")
    decision = await asyncio.wait_for(task, WAIT_S)
    assert (decision.decision, decision.text) == ("skip", None)


async def test_e_edits_in_a_text_area_then_approves(room: Room) -> None:
    task = await held(room)
    await room.press("e")
    editor = room.app.screen.query_one(TextArea)
    editor.text = "only touch config.py"
    await room.press("ctrl+s")
    decision = await asyncio.wait_for(task, WAIT_S)
    assert (decision.decision, decision.text) == ("edit", "only touch config.py")


async def test_held_banner_counts_down() -> None:
    from fusion_tui.tui.widgets.council_room import BriefingPane

    bus = EventBus()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus))  # the real clock
    async with app.run_test(size=SIZE) as pilot:
        for event in council_turn(Clock(), 2, brief="held"):
            bus.publish(event)
        banner = app.screen.query_one(BriefingPane).query_one("#held-banner", Static)

        def left() -> int | None:
            found = re.search(r"(\d+) s left", str(banner.render()))
            return int(found.group(1)) if found and banner.display else None

        await wait_until(pilot, lambda: left() is not None)
        first = left()
        # the countdown starts when the held briefing reaches the screen
        assert first is not None and 118 <= first <= 120
        await wait_until(pilot, lambda: (left() or first) < first)  # the count goes down


async def test_decision_keys_do_nothing_without_a_held_briefing(room: Room) -> None:
    await room.press("s", "e")
    assert not room.steering()
    assert room.app.screen is room.screen


async def test_pin_and_unpin(room: Room) -> None:
    await room.press("p")
    assert room.controls.pins.get(SESSION) == "sim-actor"
    await room.press("p")
    assert room.controls.pins.get(SESSION) is None
    await feed_shows(room, "unpin")


async def test_drop_asks_first_then_cancels_the_task(room: Room) -> None:
    async def serving() -> None:
        room.controls.track("req_0009", SESSION)
        await asyncio.sleep(60)

    task = asyncio.ensure_future(serving())
    await asyncio.sleep(0)
    await room.press("x")
    assert isinstance(room.app.screen, ConfirmScreen)
    await room.press("n")
    assert not task.cancelled() and not room.controls.was_dropped("req_0009")
    await room.press("x", "y")
    await asyncio.sleep(0)
    assert task.cancelled()
    assert room.controls.was_dropped("req_0009")


async def test_filter_and_feed_scope(room: Room) -> None:
    feed = room.screen.query_one(RequestFeed)
    for event in council_turn(Clock(), 5, session="other-session"):
        room.bus.publish(event)
    await wait_until(room.pilot, lambda: feed.row_count == 2)
    await room.press("f")
    assert feed.only_session == SESSION and feed.row_count == 1
    await room.press("f")
    await room.press("slash", *"other", "enter")
    assert feed.filter_text == "other" and feed.row_count == 1


async def test_enter_on_a_feed_row_shows_the_reason(room: Room) -> None:
    room.screen.query_one(RequestFeed).focus()
    await room.press("enter")
    detail = str(room.screen.query_one("#detail").render())
    assert "gate: multi-file change" in detail and "route: mode=council" in detail


async def test_help_lists_every_binding(room: Room) -> None:
    from textual.widgets import DataTable

    await room.press("question_mark")
    table = room.app.screen.query_one(DataTable)
    ids = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
    for binding in DashboardScreen.BINDINGS:
        assert isinstance(binding, Binding) and binding.id in ids
    assert {"quit", "theme"} <= ids
    await room.press("escape")
    assert room.app.screen is room.screen


async def test_keymap_remaps_a_binding_by_id() -> None:
    bus = EventBus()
    controls = make_controls(bus)
    app = FusionApp(bus, info=INFO, controls=controls, keymap={"tier_plan": "f3"})
    async with app.run_test(size=SIZE) as pilot:
        for event in council_turn(Clock(), 1):
            bus.publish(event)
        await wait_until(pilot, lambda: app.screen.selected == SESSION)  # type: ignore[attr-defined]
        await pilot.press("3")
        assert controls.tier_for(SESSION)[0] is None
        await pilot.press("f3")
        assert controls.tier_for(SESSION)[0] == "plan"


async def test_steering_keys_are_off_without_controls() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=SIZE) as pilot:
        for event in council_turn(Clock(), 1):
            bus.publish(event)
        await wait_until(pilot, lambda: app.screen.selected == SESSION)  # type: ignore[attr-defined]
        await pilot.press("3", "a", "x")
        assert app.screen is app.screen_stack[0]
