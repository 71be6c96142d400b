"""The app owns the proxy's lifetime: start on mount, stop on `q`, fail loudly on start."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fusion_tui.config import Settings, load_settings
from fusion_tui.runtime import Runtime
from fusion_tui.tui.app import EXIT_START_FAILED, FusionApp
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from tests.support.http import call
from tests.tui.conftest import REPO, SIZE, wait_until

MakeSettings = Callable[..., Settings]


@pytest.fixture
def settings_for(tmp_path: Path, clean_env: None) -> MakeSettings:
    """config.yaml on `port`, in single mode (no classifier to load), sessions under tmp_path."""

    def make(port: int = 0) -> Settings:
        return load_settings(REPO / "config.yaml", server={"host": "127.0.0.1", "port": port},
                             sessions={"dir": str(tmp_path / "sessions")},
                             routing={"mode": "single"})

    return make


def live_app(settings: Settings, **kwargs: Any) -> tuple[FusionApp, Runtime]:
    runtime = Runtime(settings)
    app = FusionApp(runtime.bus, runtime, StatusInfo.from_settings(settings), **kwargs)
    return app, runtime


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit_stops_the_runtime_and_exits(settings_for: MakeSettings, key: str) -> None:
    settings = settings_for()
    app, runtime = live_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: runtime.address != "")
        address = runtime.address
        status = app.query_one(StatusBar)
        await wait_until(pilot, lambda: f"listening {address}" in status.render().plain)
        assert app.sub_title == address

        reply = await call(address, "POST", "/v1/messages", json_body={
            "model": "m", "max_tokens": 20,
            "messages": [{"role": "user", "content": "hello"}]})
        assert reply.status == 200
        request_id = reply.headers["x-fusion-request-id"]
        feed = app.query_one(RequestFeed)
        await wait_until(pilot, lambda: feed.rows_model.get(request_id) is not None
                         and feed.rows_model[request_id].status == 200)
        assert feed.cells(feed.rows_model[request_id])["served_by"] == "sim-actor (sim)"

        await pilot.press(key)
        await wait_until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert app.runtime is None

    port = int(address.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
    # the recorder closed its files, and what it wrote is whole
    assert not runtime.recorder._files
    [recording] = list(settings.sessions.path.glob("*.jsonl"))
    lines = recording.read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "header"
    assert json.loads(lines[-1])["kind"] == "response_finished"


async def test_port_in_use_shows_the_error_and_exits_non_zero(
        settings_for: MakeSettings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app, runtime = live_app(settings_for(port), error_hold_s=0.3)
        async with app.run_test(size=SIZE) as pilot:
            status = app.query_one(StatusBar)
            await wait_until(pilot, lambda: status.error != "")
            assert f"cannot start the proxy on 127.0.0.1:{port}" in status.render().plain
            await wait_until(pilot, lambda: app.return_code is not None)
    assert app.return_code == EXIT_START_FAILED
    assert app.startup_error is not None and "in use" in app.startup_error
    # the half-started runtime was stopped (nothing left listening, files closed)
    assert app.runtime is None
    assert not runtime.recorder._files


def test_run_dashboard_reports_a_setup_failure_without_a_traceback(
        settings_for: MakeSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fusion_tui.tui.app import run_dashboard

    settings = settings_for()  # the config is checked while the folder can still be made
    blocker = tmp_path / "sessions"
    blocker.write_text("a file where the sessions folder should be")
    assert run_dashboard(settings) == EXIT_START_FAILED
    err = capsys.readouterr().err
    assert err.startswith("fusion-tui: cannot set up the proxy:")
    assert "Traceback" not in err
