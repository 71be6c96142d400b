"""The dashboard app: wires the bus, the bridge, the runtime and the screens. Nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import Screen

from fusion_tui.config import Settings
from fusion_tui.control_token import default_token_path
from fusion_tui.core.steering_api import SteeringControls
from fusion_tui.events import EventBus
from fusion_tui.runtime import Runtime
from fusion_tui.sessions.replay import Recording
from fusion_tui.tui.bridge import FLUSH_HZ, EventBridge
from fusion_tui.tui.screens import DashboardScreen
from fusion_tui.tui.screens.replay import ReplayScreen
from fusion_tui.tui.screens.sessions import SessionsScreen
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.theming import (
    DEFAULT_THEME,
    THEMES_DIR,
    discover,
    remember_theme,
    remembered_theme,
)
from fusion_tui.tui.widgets import EVENT_SINK, StatusBar

EXIT_START_FAILED = 1

QUIT_SIGNALS = ("SIGTERM", "SIGHUP")
QUIT_GRACE_S = 10.0
"""After a quit signal, once the proxy has stopped (recordings flushed), how long the terminal
may take to be given back before the process exits without it: when the terminal itself is
gone (a closed tmux pane or window), Textual's driver blocks forever writing to it."""
"""Signals that quit the dashboard cleanly (SIGINT is a key press for Textual: ctrl+c)."""


class FusionApp(App[None]):
    """The proxy's dashboard. With a `runtime` it starts the proxy once its first frame is on
    screen and stops it on quit; without one (replay, tests) it only shows what is published
    on `bus`. Steering keys act through `controls` (the runtime's by default). With `replay`
    the first screen plays that recording instead. User themes are looked for in
    `user_themes_dir` (default `$XDG_CONFIG_HOME/fusion-tui/themes`), then in a `themes/`
    folder next to `config_file`; `notices` are shown as warnings once the screen is up."""

    TITLE = "fusion-tui"
    CSS_PATH = ["styles/app.tcss", "styles/dashboard.tcss"]
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("t", "next_theme", "Theme", id="theme"),
    ]

    def __init__(self, bus: EventBus, runtime: Runtime | None = None,
                 info: StatusInfo | None = None, *, controls: SteeringControls | None = None,
                 max_rows: int = 500, flush_hz: float = FLUSH_HZ, error_hold_s: float = 2.0,
                 themes_dir: Path = THEMES_DIR, user_themes_dir: Path | None = None,
                 config_file: Path | None = None, notices: Sequence[str] = (),
                 state_path: Path | None = None, keymap: dict[str, str] | None = None,
                 theme: str | None = None, replay: Recording | None = None,
                 speed: float = 1.0, sessions_dir: Path | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 on_started: Callable[[FusionApp, str], None] | None = None) -> None:
        super().__init__()
        self.on_started = on_started
        """Called with the app and the proxy's address once the proxy listens (the demo
        starts its scripted client there)."""
        self.bus = bus
        self.runtime = runtime
        self.controls = controls or (runtime.state.controls if runtime else None)
        self.info = info or StatusInfo(source="replay" if runtime is None else "live")
        self.max_rows = max_rows
        self.error_hold_s = error_hold_s
        self.startup_error: str | None = None
        self.signalled: str | None = None
        """The signal that asked the app to quit, if one did."""
        self.replay = replay
        self.speed = speed
        self.sessions_dir = sessions_dir
        self.clock = clock
        self.state_path = state_path
        self.notices = list(notices)
        # subscribe now, so nothing published between construction and mount is missed
        self.bridge = EventBridge(bus.subscribe(), self.event_sinks, flush_hz=flush_hz)
        self._sinks: tuple[Screen[None] | None, list[MessagePump]] = (None, [])
        found = discover(themes_dir, user_themes_dir, config_file)
        self.theme_errors = found.errors
        self.theme_names = found.names
        for theme_obj in found.themes:
            self.register_theme(theme_obj)
        wanted = remembered_theme(state_path) or theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self.theme_errors.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted
        if keymap:
            self.set_keymap(keymap)

    def get_default_screen(self) -> Screen[None]:
        """The dashboard screen (or the replay screen when replaying)."""
        if self.replay is not None:
            return ReplayScreen(self.replay, self.info, self.speed, closable=False,
                                max_rows=self.max_rows, clock=self.clock)
        return DashboardScreen(self.info, self.max_rows, self.controls, clock=self.clock)

    @property
    def status_bar(self) -> StatusBar:
        """The status bar of the dashboard (the bottom screen of the stack)."""
        return self.screen_stack[0].query_one(StatusBar)

    def event_sinks(self) -> list[MessagePump]:
        """The live screen's widgets that take event batches (a replay screen has its own
        bus and bridge; nothing live reaches it)."""
        stack = self._screen_stack
        if not stack or isinstance(stack[0], ReplayScreen):
            return []
        # a query walks every widget (hundreds of markdown blocks while councils stream):
        # look once per screen, the sinks are fixed by the screen's compose
        screen = stack[0]
        if self._sinks[0] is not screen or not self._sinks[1]:
            self._sinks = (screen, list(screen.query(f".{EVENT_SINK}")))
        return self._sinks[1]

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP quit as `q` does (the proxy stopped, the terminal restored);
        Python's default for them ends the process where it stands, leaving the terminal in
        the dashboard's raw, alternate-screen mode."""
        loop = asyncio.get_running_loop()
        for name in QUIT_SIGNALS:
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._quit_on_signal, name)

    def _quit_on_signal(self, name: str) -> None:
        logging.getLogger(__name__).info("%s received: quitting", name)
        self.signalled = name
        self.call_later(self.action_quit)

    def on_load(self) -> None:
        """Before anything is drawn: signals quit cleanly from now on."""
        self._install_signal_handlers()

    async def on_ready(self) -> None:
        """Once the dashboard is on screen: start the bridge, then the proxy on this loop."""
        self.run_worker(self.bridge.run(), name="event-bridge", group="bridge",
                        exit_on_error=True)
        status = self.status_bar
        for notice in self.notices:
            self.notify(notice, title="config", severity="warning", timeout=10)
        for problem in self.theme_errors:
            self.notify(problem, title="theme", severity="error", timeout=8)
        if self.theme_errors:
            status.theme_error = "; ".join(self.theme_errors)
        if self.controls is not None:
            # a person is watching: held briefings can wait for them
            self.controls.hold_desk.attached = True
        if self.runtime is None:
            await self.start_source()
            return
        try:
            address = await self.runtime.start()
        except Exception as exc:  # shown on screen and printed on exit, never a traceback
            await self._start_failed(exc)
            return
        status.address = address
        self.sub_title = address
        if self.on_started is not None:
            self.on_started(self, address)

    async def start_source(self) -> None:
        """Where events come from when the proxy is not on this loop (a replay, a test of
        the view): said on the status bar. `AttachedApp` starts its stream here.

        A subclass extends `on_ready` through this hook, not by overriding `on_ready`:
        Textual calls the handler of every class in the MRO, so an override calling
        `super().on_ready()` ran this one twice (two bridges on one queue, posting batches
        out of order)."""
        self.status_bar.address = self.info.source
        self.sub_title = self.info.source

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
        if self.controls is not None:
            self.controls.hold_desk.attached = False
        if runtime is not None:
            await runtime.stop()

    def on_unmount(self) -> None:
        """Nobody is watching any more: nothing may be held for a person; signals go back
        to their defaults."""
        if self.controls is not None:
            self.controls.hold_desk.attached = False
        loop = asyncio.get_running_loop()
        for name in QUIT_SIGNALS:
            sig = getattr(signal, name, None)
            if sig is not None:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)

    def action_next_theme(self) -> None:
        """Cycle the dashboard's themes; the choice is remembered."""
        names = self.theme_names or [DEFAULT_THEME]
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        problem = remember_theme(self.theme, self.state_path)
        if problem:
            self.notify(problem, severity="warning")
        else:
            self.notify(f"theme {self.theme}", timeout=2)

    def open_sessions(self) -> None:
        """The recorded sessions screen; the chosen one replays on a fresh bus."""
        folder = self.sessions_dir
        if folder is None and self.runtime is not None:
            folder = self.runtime.settings.sessions.path
        if folder is None and self.replay is not None:
            folder = self.replay.path.parent
        if folder is None:
            self.notify("no sessions folder", severity="warning")
            return

        def chosen(recording: Recording | None) -> None:
            if recording is None:
                return
            info = StatusInfo(source=f"replay: {recording.path.name}",
                              upstreams=self.info.upstreams,
                              sessions_dir=self.info.sessions_dir, record=self.info.record,
                              advisors=self.info.advisors)
            self.push_screen(ReplayScreen(recording, info, 1.0, closable=True,
                                          max_rows=self.max_rows, clock=self.clock))

        self.push_screen(SessionsScreen(folder), chosen)

    async def action_quit(self) -> None:
        """Stop the proxy, then leave."""
        if self.startup_error:
            self._exit_failed()
            return
        if self.runtime is not None:
            self.status_bar.address = "stopping…"
            await self.stop_runtime()
        if self.signalled:
            self._exit_even_without_a_terminal()
        self.exit()

    def _exit_even_without_a_terminal(self) -> None:
        """The proxy is stopped: if giving the terminal back has not ended the process within
        QUIT_GRACE_S (the terminal hung up, so the driver's writes never complete), end it."""
        def leave() -> None:
            logging.getLogger(__name__).warning(
                "%s: the terminal did not come back within %.0f s (gone?): exiting without it",
                self.signalled, QUIT_GRACE_S)
            logging.shutdown()
            os._exit(0)

        timer = threading.Timer(QUIT_GRACE_S, leave)
        timer.daemon = True  # a normal exit does not wait for it
        timer.start()


async def _run(app: FusionApp, runtime: Runtime) -> None:
    try:
        await app.run_async()
    finally:
        await runtime.stop()  # idempotent; covers an exit that did not go through quit


def run_dashboard(settings: Settings,
                  on_started: Callable[[FusionApp, str], None] | None = None, *,
                  config_file: Path | None = None, notices: Sequence[str] = ()) -> int:
    """Run the proxy and its dashboard in one event loop until the user quits.

    `config_file` is the file `settings` came from (themes are also looked for next to it);
    `notices` are shown once the dashboard is up. Returns the exit code: 0 after a normal
    quit, non-zero when the proxy could not start (the reason is printed after the terminal
    is restored).
    """
    try:
        runtime = Runtime(settings, token_file=default_token_path())
    except Exception as exc:  # e.g. the sessions folder cannot be created
        sys.stderr.write(f"fusion-tui: cannot set up the proxy: {exc}\n")
        return EXIT_START_FAILED
    app = FusionApp(runtime.bus, runtime, StatusInfo.from_settings(settings),
                    keymap=settings.keymap, theme=settings.ui.theme,
                    sessions_dir=settings.sessions.path, on_started=on_started,
                    config_file=config_file, notices=notices)
    tune_gc()
    asyncio.run(_run(app, runtime))
    return app.return_code or 0


def tune_gc() -> None:
    """Collector settings for a dashboard sharing the proxy's loop.

    Everything built so far (modules, settings, the app) lives as long as the process, so it
    is frozen out of the collector. And a streaming council allocates hundreds of thousands of
    short-lived objects a second (markdown blocks, renders): with the default thresholds the
    collector ran so often that its passes stalled the shared loop for 100-300 ms at a time.
    Young collections every 20,000 allocations and full ones 2,500 times rarer halved the loop
    lag and the proxy's p90 under the ui_flood bench (docs/performance.md), while cyclic garbage
    is still reclaimed within seconds under load.
    """
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)


def demo_starter(pause_s: float) -> Callable[[FusionApp, str], None]:
    """An `on_started` hook that plays the scripted demo session (fusion_tui.demo) in a
    worker, pausing `pause_s` between steps, with a notification per step."""
    from fusion_tui.demo import SCRIPT, StepResult, play

    def start(app: FusionApp, address: str) -> None:
        steps = {step.name: n for n, step in enumerate(SCRIPT, 1)}

        def result(r: StepResult) -> None:
            if not r.ok:
                app.notify(f"{r.step.name}: {r.status} {r.error}", title="demo",
                           severity="error", timeout=8)
            elif r.forced:
                app.notify(f"{r.step.name}: forced ({r.forced})", title="demo",
                           severity="warning", timeout=6)

        async def session() -> None:
            await play(address, pause_s=pause_s,
                       on_step=lambda s: app.notify(
                           s.say, title=f"demo {steps[s.name]}/{len(SCRIPT)}: {s.name}",
                           timeout=max(4.0, pause_s)),
                       on_result=result,
                       on_wait=lambda state: app.notify(
                           f"the classifier is {state}: the first step waits for it",
                           title="demo", timeout=6))
            app.notify(f"the scripted session is over; the proxy keeps serving on {address}."
                       " S lists recordings, q quits.", title="demo finished", timeout=15)

        app.run_worker(session(), name="demo", group="demo", exit_on_error=False)

    return start


def run_demo(settings: Settings, pause_s: float = 4.0, *, config_file: Path | None = None,
             notices: Sequence[str] = ()) -> int:
    """The dashboard with the proxy, and the scripted demo client started once the proxy
    listens (fusion_tui.demo). Returns the exit code, as `run_dashboard`."""
    return run_dashboard(settings, on_started=demo_starter(pause_s), config_file=config_file,
                         notices=notices)


def run_replay(recording: Recording, speed: float = 1.0,
               settings: Settings | None = None, *, config_file: Path | None = None) -> int:
    """Play `recording` in the dashboard on a fresh bus (no proxy runs). Returns 0 on quit."""
    info = StatusInfo(source=f"replay: {recording.path.name}")
    if settings is not None:
        info = StatusInfo.from_settings(settings, source=info.source)
    app = FusionApp(EventBus(), info=info, replay=recording, speed=speed,
                    keymap=settings.keymap if settings else None,
                    theme=settings.ui.theme if settings else None,
                    sessions_dir=recording.path.parent, config_file=config_file)
    app.run()
    return app.return_code or 0
