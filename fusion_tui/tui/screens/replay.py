"""The replay screen: the same meeting room, fed by a recording on its own fresh bus, with a
REPLAY banner and transport keys. It never touches a live proxy (no controls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message_pump import MessagePump
from textual.widgets import Static

from fusion_tui.events import EventBus
from fusion_tui.sessions.replay import Recording, ReplaySource
from fusion_tui.tui.bridge import EventBridge
from fusion_tui.tui.screens.dashboard import DashboardScreen
from fusion_tui.tui.screens.prompt import PromptScreen
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import EVENT_SINK

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 0.0)
"""Speed steps for + and - (0: as fast as possible)."""


class ReplayScreen(DashboardScreen):
    """Plays `recording` into this screen only."""

    BINDINGS = [
        Binding("space", "pause", "Pause/resume", id="replay_pause"),
        Binding("full_stop,n", "step", "Step", id="replay_step"),
        Binding("plus,equals_sign", "speed(1)", "Faster", id="replay_faster"),
        Binding("minus", "speed(-1)", "Slower", id="replay_slower"),
        Binding("left_square_bracket", "request(-1)", "Prev request", id="replay_prev"),
        Binding("right_square_bracket", "request(1)", "Next request", id="replay_next"),
        Binding("g", "goto", "Go to request", id="replay_goto"),
        Binding("escape", "close", "Close replay", id="replay_close"),
    ]

    def __init__(self, recording: Recording, info: StatusInfo, speed: float = 1.0,
                 closable: bool = True, max_rows: int = 500, **kwargs: Any) -> None:
        super().__init__(info, max_rows, controls=None, **kwargs)
        self.recording = recording
        self.speed = speed
        self.closable = closable
        self.bus = EventBus()
        self.source = ReplaySource(recording, self.bus, speed)
        self.bridge = EventBridge(self.bus.subscribe(), self.sinks)

    def sinks(self) -> list[MessagePump]:
        """This screen's event sinks only."""
        return list(self.query(f".{EVENT_SINK}"))

    def compose_banner(self) -> ComposeResult:
        """The REPLAY banner."""
        yield Static(id="replay-banner")

    def on_mount(self) -> None:
        """Start the bridge and the source on this screen (they end with it)."""
        self.run_worker(self.bridge.run(), name="replay-bridge", group="replay")
        self._start_source()
        self.set_interval(0.25, self.update_banner)
        self.update_banner()

    def _start_source(self) -> None:
        self.run_worker(self._play(), name="replay-source", group="replay-source",
                        exclusive=True)

    async def _play(self) -> None:
        await self.source.run()
        self.update_banner()

    def update_banner(self) -> None:
        """File, state, speed, request n of N."""
        source = self.source
        total = len(source.request_starts())
        state = ("finished" if source.finished else "⏸ paused" if source.paused
                 else "▶ playing")
        speed = "max" if source.speed == 0 else f"{source.speed:g}x"
        banners = self.query("#replay-banner").results(Static)
        banner = next(banners, None)
        if banner is None:  # mid-recompose
            return
        template = (
            "[b reverse] REPLAY [/] [b]$name[/] · $state · speed $speed · request $n of $t · "
            "event $e of $m · not live: steering is off")
        if banner.size.width and banner.size.width < 110:
            template = ("[b reverse] REPLAY [/] [b]$name[/] · $state · $speed · req $n/$t · "
                        "event $e/$m")
        banner.update(Content.from_markup(
            template,
            name=self.recording.path.name, state=state, speed=speed,
            n=str(self.playing_request()), t=str(total), e=str(source.position),
            m=str(len(self.recording.events))))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Close only when opened from the live screen."""
        if action == "close":
            return self.closable
        return super().check_action(action, parameters)

    def action_pause(self) -> None:
        """Pause or resume."""
        if self.source.paused:
            self.source.resume()
        else:
            self.source.pause()
        self.update_banner()

    def action_step(self) -> None:
        """One event (pauses first)."""
        self.source.pause()
        self.source.step()
        self.call_after_refresh(self.update_banner)

    def action_speed(self, direction: int) -> None:
        """Next speed step up or down."""
        steps = SPEEDS
        current = self.source.speed
        index = min(range(len(steps)), key=lambda i: abs(steps[i] - current)
                    if steps[i] else (0 if current == 0 else 1e9))
        self.source.speed = steps[max(0, min(len(steps) - 1, index + direction))]
        self.update_banner()

    def playing_request(self) -> int:
        """1-based number of the request being played (or about to start)."""
        source = self.source
        at_start = source.position in source.request_starts()
        return source.current_request() + (1 if at_start else 0)

    async def action_request(self, delta: int) -> None:
        """Previous or next request."""
        await self.jump(self.playing_request() + delta)

    def action_goto(self) -> None:
        """Ask for a request number, then jump there."""

        def answered(text: str | None) -> None:
            # not awaited here: this runs while the prompt is being dismissed, and going back
            # rebuilds this screen, which waits on the very message loop that is running
            # this callback (awaiting it froze every key, q included)
            if text and text.strip().isdigit():
                self.call_later(self.jump, int(text.strip()))

        self.app.push_screen(PromptScreen(
            f"go to request (1-{len(self.source.request_starts())})", "number"), answered)

    async def jump(self, number: int) -> None:
        """Show the replay as it was when request `number` began. Going back rebuilds the
        screen from the start (state is folded from events, so it is replayed, not undone)."""
        number = max(1, min(number, len(self.source.request_starts()) or 1))
        if number <= self.playing_request():
            paused = self.source.paused
            self.workers.cancel_group(self, "replay-source")
            self.bridge.subscription.drain()
            self.model.sessions.clear()
            self.model.held.clear()
            async with self.drawing():
                await self.recompose()
            self.source = ReplaySource(self.recording, self.bus, self.source.speed)
            if paused:
                self.source.pause()
            self._start_source()
        self.source.jump_to_request(number)
        self.update_banner()

    def action_close(self) -> None:
        """Back to the live screen."""
        self.dismiss(None)


ReplayFactory = Callable[[Recording], ReplayScreen]
