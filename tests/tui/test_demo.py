"""`fusion-tui demo` in the dashboard: the scripted client starts once the proxy listens and
drives the live screens (the council room fills with advisor panes and a briefing)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from fusion_tui.demo import play
from fusion_tui.runtime import Runtime
from fusion_tui.tui.app import FusionApp, demo_starter
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import RequestFeed
from fusion_tui.tui.widgets.council_room import CouncilRoom
from fusion_tui.tui.widgets.markdown_stream import MarkdownStream
from tests.server.test_demo import demo_settings
from tests.support.http import serving
from tests.tui.conftest import wait_until


async def test_demo_drives_the_meeting_room(tmp_path: Path, test_model_dir: Path) -> None:
    settings = demo_settings(tmp_path, test_model_dir)
    runtime = Runtime(settings)
    app = FusionApp(runtime.bus, runtime, StatusInfo.from_settings(settings),
                    state_path=tmp_path / "ui.json", on_started=demo_starter(0.0))
    async with app.run_test(size=(140, 40)) as pilot:
        room = app.screen.query_one(CouncilRoom)
        # the first step waits for the classifier (the gate trains its head on start): on a
        # busy machine that can take a minute
        await wait_until(pilot, lambda: len(room.panes()) >= 2, within_s=180)
        feed = app.screen.query_one(RequestFeed)
        workers = [w for w in app.workers if w.name == "demo"]
        await wait_until(pilot, lambda: all(w.is_finished for w in workers)
                         and feed.row_count == 5 and feed.settled and room.settled)
        await pilot.pause(0.3)
        selected = app.screen.selected
        assert selected and selected.startswith("demo-")
        # the last step, the tool-free question, is the panel's: its members answer in the
        # room, and the note says who fuses them
        panel_turn = app.screen.current_turn()
        assert panel_turn is not None and panel_turn.panel
        panes = room.panes()
        assert len(panes) >= 2 and set(panes) == set(panel_turn.advisors)
        for pane in panes.values():
            assert pane.view is not None and pane.view.text
            assert pane.query_one(MarkdownStream).source  # the answer is on screen
        note = str(room.query_one("#council-note").render())
        assert "panel of" in note and "fuses the answers" in note
        # the tool turn before it: a council without the actor, a briefing, the Read call
        session = app.screen.model.sessions[selected]
        tool_turn = next(t for t in session.history.values() if t.council and not t.panel)
        assert set(tool_turn.advisors) == {"sim-fast", "sim-skeptic"}  # the actor sits out
        assert tool_turn.briefing and [t.name for t in tool_turn.tools] == ["Read"]
        assert any("demo finished" in (n.title or "") for n in app._notifications)
        await pilot.press("q")
    assert runtime.address  # it listened; quitting stopped it


async def test_the_demo_waits_for_the_classifier_before_its_first_step() -> None:
    health = {"polls": 0}
    sent: list[tuple[str, str]] = []

    def state() -> str:
        return "loading" if health["polls"] < 4 else "ready"

    async def get_health(request: web.Request) -> web.Response:
        health["polls"] += 1
        return web.json_response({"classifier": {"state": state(), "progress": 0.5}})

    async def route(request: web.Request) -> web.Response:
        return web.json_response({"tier": "compact"})

    async def messages(request: web.Request) -> web.Response:
        sent.append((request.headers.get("x-fusion-tier", ""), state()))
        return web.json_response({"content": [{"type": "text", "text": "ok"}],
                                  "stop_reason": "end_turn"},
                                 headers={"x-fusion-route": "mode=smart"})

    server = web.Application()
    server.router.add_get("/health", get_health)
    server.router.add_post("/fusion/route", route)
    server.router.add_post("/v1/messages", messages)
    waits: list[str] = []
    async with serving(server) as address:
        results = await play(address, pause_s=0.0, on_wait=waits.append)
    assert waits == ["loading 50%"]  # said once
    assert health["polls"] >= 4
    assert sent and all(when == "ready" for _, when in sent)
    assert sent[0][0] == ""  # the trivial step was judged compact, not forced
    assert all(r.ok for r in results)
