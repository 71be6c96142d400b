"""`keymap` in the config: every binding id can be remapped (each one pressed on its new key
with Pilot, and what it does checked), the config's list of ids is the dashboard's, and an
unknown id is a config error naming the key and the file."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea

import fusion_tui.tui
from fusion_tui.config import ConfigError, load_settings
from fusion_tui.config.keymap import BINDING_IDS
from fusion_tui.core.controls import Controls
from fusion_tui.events import EventBus
from fusion_tui.sessions.replay import read_recording
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens.confirm import ConfirmScreen
from fusion_tui.tui.screens.edit_briefing import EditBriefingScreen
from fusion_tui.tui.screens.help import HelpScreen
from fusion_tui.tui.screens.picker import PickerScreen
from fusion_tui.tui.screens.prompt import PromptScreen
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.screens.sessions import SessionsScreen
from fusion_tui.tui.widgets import RequestFeed
from tests.tui.conftest import FIXTURE, WAIT_S, DashboardDriver, wait_until
from tests.tui.council_factory import INFO, SESSION, Clock, council_turn, make_controls

SIZE = (140, 40)
KEY = "f9"
"""The new key every test remaps its binding to (bound nowhere by default)."""
COUNCIL = FIXTURE.parent / "council-demo.jsonl"


@dataclass
class Ctx(DashboardDriver):
    """A running app with the binding under test remapped to `KEY`."""

    app: FusionApp
    pilot: Pilot[Any]
    bus: EventBus
    controls: Controls

    async def held(self) -> asyncio.Task[Any]:
        """A held briefing for req_0002 (what a council waiting on the desk looks like)."""
        task = asyncio.ensure_future(self.controls.hold_desk.wait(
            "req_0002", "the briefing", 30.0, "approve"))
        for event in council_turn(Clock(), 2, brief="held"):
            self.bus.publish(event)
        await wait_until(self.pilot, lambda: self.dashboard.held_request() == "req_0002"
                         and "req_0002" in self.controls.hold_desk.pending)
        return task

    def in_flight(self) -> asyncio.Task[None]:
        """A request being served for the session (what drop cancels)."""
        async def serving() -> None:
            self.controls.track("req_0009", SESSION)
            await asyncio.sleep(60)

        return asyncio.ensure_future(serving())

    @property
    def replay(self) -> ReplayScreen:
        screen = self.app.screen
        assert isinstance(screen, ReplayScreen)
        return screen


@asynccontextmanager
async def live_app(binding_id: str, sessions_dir: Path) -> AsyncIterator[Ctx]:
    """The live dashboard (controls, one session with a council) with `binding_id` on KEY."""
    bus = EventBus()
    controls = make_controls(bus)
    app = FusionApp(bus, info=INFO, controls=controls, keymap={binding_id: KEY},
                    sessions_dir=sessions_dir, state_path=sessions_dir.parent / "ui.json",
                    clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        for event in council_turn(Clock(), 1):
            bus.publish(event)
        ctx = Ctx(app, pilot, bus, controls)
        await wait_until(pilot, lambda: ctx.dashboard.selected == SESSION
                         and ctx.dashboard.settled)
        yield ctx


@asynccontextmanager
async def replay_app(binding_id: str) -> AsyncIterator[Ctx]:
    """A replay of the council fixture, paused at its start, with `binding_id` on KEY."""
    bus = EventBus()
    app = FusionApp(bus, info=INFO, replay=read_recording(COUNCIL), speed=1.0,
                    keymap={binding_id: KEY})
    async with app.run_test(size=SIZE) as pilot:
        ctx = Ctx(app, pilot, bus, make_controls(bus))
        ctx.replay.source.pause()
        yield ctx


Scenario = Callable[[Ctx], Awaitable[None]]
LIVE: dict[str, Scenario] = {}
REPLAY: dict[str, Scenario] = {}


def live(binding_id: str) -> Callable[[Scenario], Scenario]:
    def register(scenario: Scenario) -> Scenario:
        LIVE[binding_id] = scenario
        return scenario
    return register


def replay(binding_id: str) -> Callable[[Scenario], Scenario]:
    def register(scenario: Scenario) -> Scenario:
        REPLAY[binding_id] = scenario
        return scenario
    return register


def tier_key(tier: str) -> Scenario:
    async def scenario(k: Ctx) -> None:
        await k.press(KEY)
        assert k.controls.tier_for(SESSION)[0] == tier
    return scenario


LIVE["tier_compact"] = tier_key("compact")
LIVE["tier_regular"] = tier_key("regular")
LIVE["tier_plan"] = tier_key("plan")


@live("tier_auto")
async def _auto(k: Ctx) -> None:
    k.controls.lock_tier(SESSION, "plan")
    await k.press(KEY)
    assert k.controls.sessions[SESSION].locked_tier is None


def opens_picker(title: str) -> Scenario:
    async def scenario(k: Ctx) -> None:
        await k.press(KEY)
        picker = k.app.screen
        assert isinstance(picker, PickerScreen) and title in picker.title_text
    return scenario


LIVE["tier_lock"] = opens_picker(f"lock {SESSION} at")
LIVE["swap_actor"] = opens_picker(f"actor for {SESSION}")
LIVE["mute_advisor"] = opens_picker("mute or unmute")
LIVE["compose_council"] = opens_picker(f"compose the council of {SESSION}")


@live("council_toggle")
async def _council(k: Ctx) -> None:
    await k.press(KEY)
    assert k.controls.sessions[SESSION].council is False


@live("council_global")
async def _council_global(k: Ctx) -> None:
    await k.press(KEY)
    assert k.controls.council_globally is False
    assert SESSION not in k.controls.sessions or k.controls.sessions[SESSION].council is None


@live("hold_toggle")
async def _hold(k: Ctx) -> None:
    await k.press(KEY)
    assert k.controls.hold_mode == "plan"


def decides(decision: str) -> Scenario:
    """With a briefing held, the remapped key decides it (`approve` or `skip`)."""
    async def scenario(k: Ctx) -> None:
        task = await k.held()
        await k.press(KEY)
        assert (await asyncio.wait_for(task, WAIT_S)).decision == decision
    return scenario


LIVE["briefing_approve"] = decides("approve")
LIVE["briefing_skip"] = decides("skip")


@live("briefing_edit")
async def _edit(k: Ctx) -> None:
    await k.held()
    await k.press(KEY)
    assert isinstance(k.app.screen, EditBriefingScreen)


@live("pin_toggle")
async def _pin(k: Ctx) -> None:
    await k.press(KEY)
    assert k.controls.pins.get(SESSION) == "sim-actor"


@live("drop_request")
async def _drop(k: Ctx) -> None:
    task = k.in_flight()
    await asyncio.sleep(0)
    await k.press(KEY)
    assert isinstance(k.app.screen, ConfirmScreen)
    task.cancel()


@live("filter")
async def _filter(k: Ctx) -> None:
    await k.press(KEY)
    box = k.dashboard.query_one("#filter", Input)
    assert k.app.focused is box and box.display


@live("feed_scope")
async def _feed_scope(k: Ctx) -> None:
    await k.press(KEY)
    assert k.dashboard.query_one(RequestFeed).only_session == SESSION


@live("view_toggle")
async def _view_toggle(k: Ctx) -> None:
    await k.press(KEY)
    assert k.dashboard.has_class("-view-requests")
    await k.press(KEY)
    assert not k.dashboard.has_class("-view-requests")


@live("theme")
async def _theme(k: Ctx) -> None:
    before = k.app.theme
    await k.press(KEY)
    assert k.app.theme != before


@live("quit")
async def _quit(k: Ctx) -> None:
    await k.press(KEY)
    assert k.app.return_code == 0


@live("picker_cancel")
async def _picker_cancel(k: Ctx) -> None:
    await k.press("l")
    assert isinstance(k.app.screen, PickerScreen)
    await k.press(KEY)
    assert k.app.screen is k.dashboard
    assert SESSION not in k.controls.sessions or not k.controls.sessions[SESSION].locked_tier


@live("edit_approve")
async def _edit_approve(k: Ctx) -> None:
    task = await k.held()
    await k.press("e")
    k.app.screen.query_one(TextArea).text = "only touch config.py"
    await k.press(KEY)
    decision = await asyncio.wait_for(task, WAIT_S)
    assert (decision.decision, decision.text) == ("edit", "only touch config.py")


@live("edit_cancel")
async def _edit_cancel(k: Ctx) -> None:
    task = await k.held()
    await k.press("e")
    assert isinstance(k.app.screen, EditBriefingScreen)
    await wait_until(k.pilot, lambda: k.app.focused is k.app.screen.query_one(TextArea))
    await k.press(KEY)
    assert k.app.screen is k.dashboard
    assert not task.done() and "req_0002" in k.controls.hold_desk.pending
    task.cancel()


@live("confirm_yes")
async def _confirm_yes(k: Ctx) -> None:
    task = k.in_flight()
    await asyncio.sleep(0)
    await k.press("x")
    await k.press(KEY)
    await asyncio.sleep(0)
    assert task.cancelled() and k.controls.was_dropped("req_0009")


@live("confirm_no")
async def _confirm_no(k: Ctx) -> None:
    task = k.in_flight()
    await asyncio.sleep(0)
    await k.press("x")
    assert isinstance(k.app.screen, ConfirmScreen)
    await k.press(KEY)
    assert k.app.screen is k.dashboard
    assert not task.done() and not k.controls.was_dropped("req_0009")
    task.cancel()


def opens(screen: type[Screen[Any]]) -> Scenario:
    """The remapped key opens `screen`."""
    async def scenario(k: Ctx) -> None:
        await k.press(KEY)
        assert isinstance(k.app.screen, screen)
    return scenario


LIVE["sessions"] = opens(SessionsScreen)
LIVE["help"] = opens(HelpScreen)
REPLAY["replay_goto"] = opens(PromptScreen)


def closes(opening_key: str, screen: type[Screen[Any]]) -> Scenario:
    """Open `screen` with `opening_key`; the remapped key brings the dashboard back."""
    async def scenario(k: Ctx) -> None:
        await k.press(opening_key)
        assert isinstance(k.app.screen, screen)
        await k.press(KEY)
        assert k.app.screen is k.dashboard
    return scenario


LIVE["help_close"] = closes("question_mark", HelpScreen)
LIVE["sessions_close"] = closes("S", SessionsScreen)


@live("sessions_search")
async def _sessions_search(k: Ctx) -> None:
    await k.press("S")
    assert isinstance(k.app.screen, SessionsScreen)
    await k.press(KEY)
    assert k.app.focused is k.app.screen.query_one("#session-search", Input)


@live("replay_close")
async def _replay_close(k: Ctx) -> None:
    k.app.push_screen(ReplayScreen(read_recording(COUNCIL), INFO, closable=True))
    await wait_until(k.pilot, lambda: isinstance(k.app.screen, ReplayScreen))
    await k.press(KEY)
    assert k.app.screen is k.dashboard


@replay("replay_pause")
async def _pause(k: Ctx) -> None:
    k.replay.source.resume()
    await k.press(KEY)
    assert k.replay.source.paused


@replay("replay_step")
async def _step(k: Ctx) -> None:
    before = k.replay.source.position
    await k.press(KEY)
    await wait_until(k.pilot, lambda: k.replay.source.position == before + 1)


@replay("replay_faster")
async def _faster(k: Ctx) -> None:
    await k.press(KEY)
    assert k.replay.source.speed == 2.0


@replay("replay_slower")
async def _slower(k: Ctx) -> None:
    await k.press(KEY)
    assert k.replay.source.speed == 0.5


@replay("replay_next")
async def _next(k: Ctx) -> None:
    before = k.replay.playing_request()
    await k.press(KEY)
    await wait_until(k.pilot, lambda: k.replay.playing_request() == before + 1)


@replay("replay_prev")
async def _prev(k: Ctx) -> None:
    await k.replay.jump(3)
    await wait_until(k.pilot, lambda: k.replay.playing_request() == 3)
    await k.press(KEY)
    await wait_until(k.pilot, lambda: k.replay.playing_request() == 2)


@replay("prompt_cancel")
async def _prompt_cancel(k: Ctx) -> None:
    await k.press("g")
    assert isinstance(k.app.screen, PromptScreen)
    await k.press(KEY)
    assert isinstance(k.app.screen, ReplayScreen)


@pytest.mark.parametrize("binding_id", BINDING_IDS)
async def test_every_binding_id_can_be_remapped(binding_id: str, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    if binding_id in REPLAY:
        async with replay_app(binding_id) as ctx:
            await REPLAY[binding_id](ctx)
        return
    async with live_app(binding_id, sessions) as ctx:
        await LIVE[binding_id](ctx)


def test_every_id_has_a_remap_scenario() -> None:
    assert sorted(LIVE.keys() | REPLAY.keys()) == sorted(BINDING_IDS)
    assert not LIVE.keys() & REPLAY.keys()


def declared_binding_ids() -> list[str]:
    """The ids of every Binding declared by a class in fusion_tui.tui."""
    ids: list[str] = []
    for info in pkgutil.walk_packages(fusion_tui.tui.__path__, "fusion_tui.tui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, DOMNode) or cls.__module__ != module.__name__:
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                assert isinstance(binding, Binding) and binding.id, (cls, binding)
                ids.append(binding.id)
    return ids


def test_the_config_knows_every_binding_id_the_dashboard_declares() -> None:
    declared = declared_binding_ids()
    assert len(declared) == len(set(declared)), "binding ids must be unique"
    assert sorted(declared) == sorted(BINDING_IDS)


def test_an_unknown_binding_id_is_a_config_error_naming_the_key_and_file(
        tmp_path: Path, clean_env: None) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("upstreams: [{id: s, type: simulated, model: m}]\n"
                      "pools: {actor: [s]}\n"
                      "keymap: {tier_plan: f3, tier_plna: f4}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    message = str(err.value)
    assert str(config) in message and "keymap" in message and "'tier_plna'" in message
    config.write_text(config.read_text().replace("tier_plna: f4", "drop_request: ''"))
    with pytest.raises(ConfigError, match="drop_request"):
        load_settings(config)
    config.write_text(config.read_text().replace("drop_request: ''", "drop_request: ctrl+x"))
    assert load_settings(config).keymap == {"tier_plan": "f3", "drop_request": "ctrl+x"}
