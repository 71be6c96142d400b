"""Replay in the dashboard (transport keys, sessions screen) and themes as data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fusion_tui.events import EventBus
from fusion_tui.sessions.replay import read_recording
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.screens.sessions import SessionsScreen
from fusion_tui.tui.theming import state_file
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from tests.tui.conftest import FIXTURE, wait_until
from tests.tui.council_factory import INFO, make_controls

COUNCIL = FIXTURE.parent / "council-demo.jsonl"
SIZE = (140, 40)


async def test_replay_transport_keys() -> None:
    recording = read_recording(COUNCIL)
    app = FusionApp(EventBus(), info=INFO, replay=recording, speed=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("space")
        assert screen.source.paused
        before = screen.source.position
        await pilot.press("full_stop")
        await wait_until(pilot, lambda: screen.source.position == before + 1)
        await pilot.press("n")
        await wait_until(pilot, lambda: screen.source.position == before + 2)
        speed = screen.source.speed
        await pilot.press("plus")
        assert screen.source.speed > speed
        await pilot.press("minus", "minus")
        assert screen.source.speed < speed
        await pilot.press("right_square_bracket")
        assert screen.source.current_request() >= 1
        await pilot.press("g", "3", "enter")
        await wait_until(pilot, lambda: screen.source.current_request() == 2
                         and screen.source.position == screen.source.request_starts()[2])
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: app.screen.query_one(RequestFeed).row_count == 1)
        banner = str(app.screen.query_one("#replay-banner").render())
        assert "REPLAY" in banner and "council-demo.jsonl" in banner
        # steering is off in replay: no picker opens
        await pilot.press("a")
        assert app.screen is screen


async def test_sessions_screen_opens_a_replay_on_a_fresh_bus(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    shutil.copy(COUNCIL, folder / "cc-7f3a9e21.jsonl")
    shutil.copy(FIXTURE, folder / "demo.jsonl")
    bus = EventBus()
    live_sub = bus.subscribe()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus), sessions_dir=folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        assert len(sessions.summaries) == 2
        await pilot.press("slash", *"cc-7f", "enter")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        assert replay.bus is not bus and replay.controls is None
        await wait_until(pilot, lambda: replay.query_one(RequestFeed).row_count >= 1,
                         within_s=10)
        # the live screen saw nothing of it, and nothing went into the live bus
        live_feed = app.screen_stack[0].query_one(RequestFeed)
        assert live_feed.row_count == 0 and live_sub.queue.empty()
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_theme_cycles_and_is_remembered() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "fusion-dark"
        assert {"fusion-dark", "fusion-light", "fusion-contrast"} <= set(app.theme_names)
        await pilot.press("t")
        chosen = app.theme
        assert chosen != "fusion-dark"
    assert json.loads(state_file().read_text())["theme"] == chosen
    again = FusionApp(EventBus(), info=INFO)
    assert again.theme == chosen


async def test_user_theme_is_picked_up_and_a_broken_one_reported(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    user.mkdir()
    (user / "mine.yaml").write_text("name: mine\nprimary: '#112233'\ndark: true\n")
    (user / "broken.yaml").write_text("name: broken\nprimary: '#123'\ncolour: red\n")
    app = FusionApp(EventBus(), info=INFO, user_themes_dir=user, theme="mine")
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "mine"
        status = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "broken.yaml" in status.render().plain)
        assert "unknown keys: colour" in status.render().plain
