"""Dashboard test helpers: a deterministic status line, the recorded fixture session, and a
way to wait for the bridge without sleeping a fixed time."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.pilot import Pilot

from fusion_tui.config import load_settings
from fusion_tui.events import Event, EventBus
from fusion_tui.sessions.replay import read_recording
from fusion_tui.tui.status import StatusInfo

if TYPE_CHECKING:
    from fusion_tui.tui.app import FusionApp
    from fusion_tui.tui.screens.dashboard import DashboardScreen

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "sessions" / "tui-demo.jsonl"
SIZE = (120, 36)


class DashboardDriver:
    """What the dashboard tests drive: the app, its pilot, the live screen under any modal,
    and a key press that lets the app take it in. Subclasses are dataclasses that declare
    `app` and `pilot` as fields."""

    app: FusionApp
    pilot: Pilot[Any]

    @property
    def dashboard(self) -> DashboardScreen:
        """The live screen (the bottom of the stack, whatever modal is open)."""
        from fusion_tui.tui.screens.dashboard import DashboardScreen

        screen = self.app.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    screen = dashboard

    async def press(self, *keys: str) -> None:
        """Press the keys and let the app handle them."""
        await self.pilot.press(*keys)
        await self.pilot.pause()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FUSION_ overrides and no API keys: what the screen shows does not depend on them."""
    for name in list(os.environ):
        if name.startswith("FUSION_") or name.endswith("_API_KEY"):
            monkeypatch.delenv(name)


@pytest.fixture
def replay_info(clean_env: None) -> StatusInfo:
    """Status facts of the repository's config.yaml, as a replay of the fixture session."""
    settings = load_settings(REPO / "config.yaml")
    return StatusInfo.from_settings(settings, source=f"replay: {FIXTURE.name}")


@pytest.fixture
def fixture_events() -> list[Event]:
    """The recorded fixture session's events."""
    return read_recording(FIXTURE).events


def publish_all(bus: EventBus, events: Iterable[Event]) -> int:
    """Publish `events` into `bus` at once, in order; returns how many."""
    count = 0
    for event in events:
        bus.publish(event)
        count += 1
    return count


WAIT_S = 60.0
"""How long a wait may take before the test fails: generous, since the condition is
checked every turn of the loop and a loaded machine is slow, never wrong. Only a test that
is failing anyway ever waits this long."""


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool],
                     within_s: float = WAIT_S) -> None:
    """Let the app run until `condition()` holds (fails the test after `within_s` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within_s}s")
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Theme state and user themes live in a temporary folder, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
