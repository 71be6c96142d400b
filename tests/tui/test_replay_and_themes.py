"""Replay in the dashboard (transport keys, sessions screen) and themes as data."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import DataTable

from fusion_tui.events import EventBus
from fusion_tui.sessions.replay import Recording, read_recording
from fusion_tui.sessions.store import SessionSummary, list_sessions
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens import sessions as sessions_screen
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.screens.sessions import SessionsScreen
from fusion_tui.tui.theming import code_theme, discover, state_file, theme_folders
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from tests.tui.conftest import FIXTURE, publish_all, wait_until
from tests.tui.council_factory import INFO, make_controls
from tests.tui.events_factory import finished, received, routed

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
        await wait_until(pilot, lambda: sessions.loaded)
        assert len(sessions.summaries) == 2
        await pilot.press("slash", *"cc-7f", "enter")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        assert replay.bus is not bus and replay.controls is None
        await wait_until(pilot, lambda: replay.query_one(RequestFeed).row_count >= 1)
        # the live screen saw nothing of it, and nothing went into the live bus
        live_feed = app.screen_stack[0].query_one(RequestFeed)
        assert live_feed.row_count == 0 and live_sub.queue.empty()
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_sessions_screen_reads_recordings_off_the_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    shutil.copy(COUNCIL, folder / "cc-7f3a9e21.jsonl")
    (folder / "torn.jsonl").write_text("not a recording\n")
    release = threading.Event()
    threads: list[str] = []

    def slow_list(path: Path) -> list[SessionSummary]:
        threads.append(threading.current_thread().name)
        release.wait(5)  # a big folder: the loop must keep running meanwhile
        return list_sessions(path)

    def slow_read(path: Path) -> Recording:
        threads.append(threading.current_thread().name)
        return read_recording(path)

    monkeypatch.setattr(sessions_screen, "list_sessions", slow_list)
    monkeypatch.setattr(sessions_screen, "read_recording", slow_read)
    app = FusionApp(EventBus(), info=INFO, sessions_dir=folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await pilot.pause(0.1)  # the loop turns while the folder is read
        table = screen.query_one(DataTable)
        assert not screen.loaded and table.loading
        assert "reading the recordings" in str(screen.query_one("#session-count").render())
        release.set()
        await wait_until(pilot, lambda: screen.loaded and not table.loading)
        assert [s.session_id for s in screen.summaries] == ["cc-7f3a9e21"]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
    assert len(threads) == 2 and threading.main_thread().name not in threads


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


def _rgb(app: FusionApp, variable: str) -> tuple[int, int, int]:
    return Color.parse(app.theme_variables[variable]).rich_color.get_truecolor()


async def test_switching_theme_recolours_the_feed_rows_on_screen() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.screen.query_one(RequestFeed)
        publish_all(bus, [received(1), routed(1), finished(1)])
        await wait_until(pilot, lambda: feed.row_count == 1 and feed.settled
                         and feed.shown_cells.get("req_1", {}).get("status") == Text("200"))

        def status_colour() -> tuple[int, int, int] | None:
            status = feed.get_cell("req_1", "status")
            assert isinstance(status, Text) and status.style
            colour = Style.parse(str(status.style)).color
            return colour.get_truecolor() if colour else None

        assert status_colour() == _rgb(app, "success")
        dark = status_colour()
        app.theme = "fusion-light"
        await wait_until(pilot, lambda: status_colour() != dark)
        assert status_colour() == _rgb(app, "success")


async def test_a_theme_in_the_config_folder_is_picked_up_and_wins(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg-themes"
    xdg.mkdir()
    (xdg / "mine.yaml").write_text("name: mine\nprimary: '#112233'\n")
    (xdg / "only-xdg.yaml").write_text("name: only-xdg\nprimary: '#445566'\n")
    config = tmp_path / "project" / "config.yaml"
    (config.parent / "themes").mkdir(parents=True)
    config.write_text("{}\n")
    (config.parent / "themes" / "mine.yaml").write_text(
        "name: mine\nprimary: '#AABBCC'\ndark: false\ncode_theme: xcode\n")
    assert theme_folders(xdg, config) == [xdg, config.parent / "themes"]
    found = discover(user=xdg, config_file=config)
    assert {"only-xdg", "mine", "fusion-dark"} <= set(found.names)
    mine = next(t for t in found.themes if t.name == "mine")
    assert mine.primary == "#AABBCC" and code_theme(mine) == "xcode"  # the config's wins
    assert theme_folders(config.parent / "themes", config) == [config.parent / "themes"]

    app = FusionApp(EventBus(), info=INFO, user_themes_dir=xdg, config_file=config,
                    theme="mine")
    async with app.run_test(size=SIZE):
        assert app.theme == "mine" and app.current_theme.primary == "#AABBCC"


def test_a_bad_code_theme_is_reported_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: bad\nprimary: '#123456'\ncode_theme: nope\n")
    found = discover(user=tmp_path)
    assert "bad" not in found.names
    assert found.errors and "bad.yaml: code_theme: no Pygments style 'nope'" in found.errors[0]


async def test_config_notices_are_shown_once_the_screen_is_up() -> None:
    app = FusionApp(EventBus(), info=INFO, notices=["running the bundled config"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any(n.message == "running the bundled config"
                                            and n.severity == "warning"
                                            for n in app._notifications))
