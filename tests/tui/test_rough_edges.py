"""The rough edges of issue 20, each pinned by a test: replay jumps, quitting from anywhere,
the terminal restored on signals, the fallback's reason, the held briefing's top, feedback
for the feed's scope, swapping to an unusable actor, the help screen's rows."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from pathlib import Path

import pytest

from fusion_tui.events import (
    BriefingHeld,
    BriefingReady,
    ClassifierStateChanged,
    Event,
    EventBus,
)
from fusion_tui.sessions.replay import read_recording
from fusion_tui.sessions.store import SessionSummary
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens import sessions as sessions_screen
from fusion_tui.tui.screens.help import HelpScreen
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.screens.sessions import SessionsScreen
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from fusion_tui.tui.widgets.markdown_stream import MarkdownStream
from tests.tui.conftest import FIXTURE, publish_all, wait_until
from tests.tui.council_factory import (
    INFO,
    SESSION,
    Clock,
    classifier,
    council_turn,
    make_controls,
)

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
        await wait_until(pilot, lambda: not app.is_running)


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
        await wait_until(pilot, lambda: not app.is_running)
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
            await wait_until(pilot, lambda: not app.is_running)
    finally:
        release.set()


LONG_BRIEFING = "\n\n".join(
    [f"## Step {n}\n\nDo part {n} of the change carefully and check it." for n in range(1, 9)]
    + ["## Recommended next action\n\nRun the tests."])


def held_with_long_briefing() -> list[Event]:
    clock = Clock()
    events = [classifier(clock), *council_turn(clock, 1, brief="held")]
    out: list[Event] = []
    for event in events:
        if isinstance(event, BriefingReady | BriefingHeld):
            event = dataclasses.replace(event, text="Summary first.\n\n" + LONG_BRIEFING)
        out.append(event)
    return out


async def test_a_held_briefing_opens_at_its_top() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus, hold="plan"),
                    clock=lambda: 0.0)
    async with app.run_test(size=(140, 40)) as pilot:
        events = held_with_long_briefing()
        publish_all(bus, events)
        screen = app.screen
        await wait_until(pilot, lambda: app.bridge.events == len(events) and screen.settled
                         and screen.held_request() == "req_0001")
        body = screen.query_one("#briefing-body", MarkdownStream)
        await wait_until(pilot, lambda: body.max_scroll_y > 0)
        await pilot.pause(0.3)
        assert body.scroll_y == 0
        assert "Summary first" in "".join(s.text for s in body._lines[:3])


FALLBACK = ClassifierStateChanged(
    state="ready", model="all-MiniLM-L6-v2-int8 (offline fallback)", device="cpu",
    error="offline fallback: cannot reach huggingface.co to fetch jina-embeddings-v2 "
          "(hub unreachable)", seq=1, t=1.0, ts=1.0)


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_why_the_offline_model_is_in_use_is_on_screen(size: tuple[int, int]) -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO)
    async with app.run_test(size=size) as pilot:
        status = app.screen.query_one(StatusBar)
        bus.publish(FALLBACK)
        await wait_until(pilot, lambda: status.classifier is not None and app.screen.settled)
        text = status.render().plain
        assert "TEST MODEL" in text and "offline fallback" in text
        assert "why: cannot reach huggingface.co" in text
        if size[0] <= 100:  # the two short lines fit whole: nothing is cut mid-word
            assert all(len(line) <= size[0] - 2 for line in text.splitlines())


async def test_f_says_which_requests_the_feed_shows() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus))
    async with app.run_test(size=SIZE) as pilot:
        events = council_turn(Clock(), 1)
        publish_all(bus, events)
        screen = app.screen
        await wait_until(pilot, lambda: screen.selected == SESSION and screen.settled)
        feed = screen.query_one(RequestFeed)
        assert "all sessions" in str(feed.border_title)
        await pilot.press("f")
        assert f"only {SESSION}" in str(feed.border_title)
        assert any(f"only session {SESSION}" in n.message for n in app._notifications)
        await pilot.press("f")
        assert "all sessions" in str(feed.border_title)
        assert any(n.message == "feed: all sessions" for n in app._notifications)


async def test_help_has_no_raw_binding_ids_for_descriptions() -> None:
    bus = EventBus()
    app = FusionApp(bus, info=INFO, controls=make_controls(bus))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {ident: what for ident, _, what in help_screen.rows}
        assert "help_quit" in rows and "ctrl+q" in rows["help_quit"]
        assert all(what != ident and "_" not in what for ident, what in rows.items())
