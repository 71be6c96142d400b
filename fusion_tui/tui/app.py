"""The dashboard app: wires the bus, the bridge, the runtime and the screens. Nothing else."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import Screen

from fusion_tui.config import Settings
from fusion_tui.core import Runtime
from fusion_tui.events import EventBus
from fusion_tui.tui.bridge import FLUSH_HZ, EventBridge
from fusion_tui.tui.screens import DashboardScreen
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.themes import DEFAULT_THEME, THEMES_DIR, load_themes
from fusion_tui.tui.widgets import EVENT_SINK, StatusBar

EXIT_START_FAILED = 1


class FusionApp(App[None]):
    """The proxy's dashboard. With a `runtime` it starts the proxy once its first frame is on
    screen and stops it on quit; without one (replay, tests) it only shows what is published
    on `bus`."""

    TITLE = "fusion-tui"
    CSS_PATH = ["styles/app.tcss", "styles/dashboard.tcss"]
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, bus: EventBus, runtime: Runtime | None = None,
                 info: StatusInfo | None = None, *, max_rows: int = 500,
                 flush_hz: float = FLUSH_HZ, error_hold_s: float = 2.0,
                 themes_dir: Path = THEMES_DIR) -> None:
        super().__init__()
        self.bus = bus
        self.runtime = runtime
        self.info = info or StatusInfo(source="replay" if runtime is None else "live")
        self.max_rows = max_rows
        self.error_hold_s = error_hold_s
        self.startup_error: str | None = None
        # subscribe now, so nothing published between construction and mount is missed
        self.bridge = EventBridge(bus.subscribe(), self.event_sinks, flush_hz=flush_hz)
        for theme in load_themes(themes_dir):
            self.register_theme(theme)
        if DEFAULT_THEME in self.available_themes:
            self.theme = DEFAULT_THEME

    def get_default_screen(self) -> Screen[None]:
        """The dashboard screen."""
        return DashboardScreen(self.info, self.max_rows)

    @property
    def status_bar(self) -> StatusBar:
        """The status bar of the dashboard (the bottom screen of the stack)."""
        return self.screen_stack[0].query_one(StatusBar)

    def event_sinks(self) -> list[MessagePump]:
        """Every widget, on every screen in the stack, that takes event batches."""
        sinks: list[MessagePump] = []
        for screen in self.screen_stack:
            sinks.extend(screen.query(f".{EVENT_SINK}"))
        return sinks

    async def on_ready(self) -> None:
        """Once the dashboard is on screen: start the bridge, then the proxy on this loop."""
        self.run_worker(self.bridge.run(), name="event-bridge", group="bridge",
                        exit_on_error=True)
        status = self.status_bar
        if self.runtime is None:
            status.address = self.info.source
            self.sub_title = self.info.source
            return
        try:
            address = await self.runtime.start()
        except Exception as exc:  # shown on screen and printed on exit, never a traceback
            await self._start_failed(exc)
            return
        status.address = address
        self.sub_title = address

    async def _start_failed(self, exc: Exception) -> None:
        reason = str(exc) or type(exc).__name__
        self.startup_error = f"cannot start the proxy on {self.info.listen}: {reason}"
        self.status_bar.error = self.startup_error
        await self.stop_runtime()
        if self.error_hold_s > 0:
            self.set_timer(self.error_hold_s, self._exit_failed)
        else:
            self._exit_failed()

    def _exit_failed(self) -> None:
        self.exit(return_code=EXIT_START_FAILED,
                  message=Text(f"fusion-tui: {self.startup_error}"))

    async def stop_runtime(self) -> None:
        """Stop the proxy (close the server, flush and close recordings), once."""
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            await runtime.stop()

    async def action_quit(self) -> None:
        """Stop the proxy, then leave."""
        if self.startup_error:
            self._exit_failed()
            return
        if self.runtime is not None:
            self.status_bar.address = "stopping…"
            await self.stop_runtime()
        self.exit()


async def _run(app: FusionApp, runtime: Runtime) -> None:
    try:
        await app.run_async()
    finally:
        await runtime.stop()  # idempotent; covers an exit that did not go through quit


def run_dashboard(settings: Settings) -> int:
    """Run the proxy and its dashboard in one event loop until the user quits.

    Returns the exit code: 0 after a normal quit, non-zero when the proxy could not start
    (the reason is printed after the terminal is restored).
    """
    try:
        runtime = Runtime(settings)
    except Exception as exc:  # e.g. the sessions folder cannot be created
        sys.stderr.write(f"fusion-tui: cannot set up the proxy: {exc}\n")
        return EXIT_START_FAILED
    app = FusionApp(runtime.bus, runtime, StatusInfo.from_settings(settings))
    asyncio.run(_run(app, runtime))
    return app.return_code or 0
