"""The rough edges of issue 20, each pinned by a test: replay jumps, quitting from anywhere,
the terminal restored on signals, the fallback's reason, the held briefing's top, feedback
for the feed's scope, swapping to an unusable actor, the help screen's rows."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from fusion_tui.events import EventBus
from fusion_tui.sessions.replay import read_recording
from fusion_tui.tui.app import FusionApp
from fusion_tui.sessions.store import SessionSummary
from fusion_tui.tui.screens import sessions as sessions_screen
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.screens.sessions import SessionsScreen
from tests.tui.conftest import FIXTURE, wait_until
from tests.tui.council_factory import INFO, make_controls

COUNCIL = FIXTURE.parent / "council-demo.jsonl"
SIZE = (140, 40)


async def test_replay_goes_back_with_g_to_the_right_request_and_keys_still_work() -> None:
    recording = read_recording(COUNCIL)
    app = FusionApp(EventBus(), info=INFO, replay=recording, speed=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("space")  # paused: only the keys move it
        starts = screen.source.request_starts()
        assert len(starts) == 4
        for n in range(1, 4):
            await pilot.press("right_square_bracket")
            await wait_until(pilot, lambda n=n: app.screen.source.position == starts[n])
        await pilot.press("right_square_bracket")  # past the last: stays on request 4
        await pilot.press("g", "2", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen)
                         and app.screen.source.position == starts[1])
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        assert replay.playing_request() == 2
        assert "request 2 of 4" in str(replay.query_one("#replay-banner").render())
        # the keyboard still answers: step, then back one request, then quit
        await pilot.press("n")
        await wait_until(pilot, lambda: replay.source.position == starts[1] + 1)
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: replay.source.position == starts[0])
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, within_s=3)


async def test_q_quits_from_a_replay_opened_from_the_sessions_screen(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    shutil.copy(COUNCIL, folder / "cc-7f3a9e21.jsonl")
    bus = EventBus()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus), sessions_dir=folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        await wait_until(pilot, lambda: sessions.loaded)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        await wait_until(pilot, lambda: replay.source.position > 10)
        await pilot.press("g", "1", "enter")  # a rebuild in flight must not block quitting
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, within_s=5)
    assert app.return_code == 0


async def test_q_quits_from_the_sessions_screen_while_it_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow_list(path: Path) -> list[SessionSummary]:
        release.wait(5)
        return []

    monkeypatch.setattr(sessions_screen, "list_sessions", slow_list)
    app = FusionApp(EventBus(), info=INFO, sessions_dir=tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("S")
            assert isinstance(app.screen, SessionsScreen)
            await pilot.press("q")
            await wait_until(pilot, lambda: not app.is_running, within_s=3)
    finally:
        release.set()
