"""`fusion-tui demo` in the dashboard: the scripted client starts once the proxy listens and
drives the live screens (the council room fills with advisor panes and a briefing)."""

from __future__ import annotations

from pathlib import Path

from fusion_tui.runtime import Runtime
from fusion_tui.tui.app import FusionApp, demo_starter
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import RequestFeed
from fusion_tui.tui.widgets.actor_pane import ActorPane
from fusion_tui.tui.widgets.council_room import BriefingPane, CouncilRoom
from fusion_tui.tui.widgets.markdown_stream import MarkdownStream
from tests.server.test_demo import demo_settings
from tests.tui.conftest import wait_until


async def test_demo_drives_the_meeting_room(tmp_path: Path, test_model_dir: Path) -> None:
    settings = demo_settings(tmp_path, test_model_dir)
    runtime = Runtime(settings)
    app = FusionApp(runtime.bus, runtime, StatusInfo.from_settings(settings),
                    state_path=tmp_path / "ui.json", on_started=demo_starter(0.0))
    async with app.run_test(size=(140, 40)) as pilot:
        room = app.screen.query_one(CouncilRoom)
        await wait_until(pilot, lambda: len(room.panes()) >= 2, within_s=30)
        feed = app.screen.query_one(RequestFeed)
        workers = [w for w in app.workers if w.name == "demo"]
        await wait_until(pilot, lambda: all(w.is_finished for w in workers)
                         and feed.row_count == 5 and feed.settled and room.settled, within_s=30)
        await pilot.pause(0.3)
        assert app.screen.selected and app.screen.selected.startswith("demo-")
        panes = room.panes()
        assert set(panes) == {"sim-fast", "sim-skeptic"}  # the actor sits out
        for pane in panes.values():
            assert pane.view is not None and pane.view.text
            assert pane.query_one(MarkdownStream).source  # the deliberation is on screen
        briefing = room.query_one(BriefingPane)
        assert briefing.query_one(MarkdownStream).source
        actor = app.screen.query_one(ActorPane)
        assert actor.turn is not None and [t.name for t in actor.turn.tools] == ["Read"]
        assert any("demo finished" in (n.title or "") for n in app._notifications)
        await pilot.press("q")
    assert runtime.address  # it listened; quitting stopped it
