"""The council room: one pane per advisor streaming its deliberation as markdown, and the
judge's briefing under them (with the hold countdown when a person must decide)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Markdown, Static

from fusion_tui.tui.room import AdvisorView, Changes, TurnView

STATE_STYLE = {"thinking": "$accent", "ok": "$success", "partial": "$warning",
               "failed": "$error"}


def advisor_title(view: AdvisorView) -> Content:
    """`name · perspective · state · tokens · latency` for an advisor pane's header."""
    style = STATE_STYLE.get(view.state, "$foreground")
    name = Content.from_markup("[b]$n[/]", n=view.name)
    if view.perspective:
        name += Content.from_markup(" [$text-muted]($p)[/]", p=view.perspective)
    parts = [Content.from_markup(f"[{style} b]$s[/]", s=view.label)]
    if view.tokens:
        parts.append(Content(f"{view.tokens} tok"))
    if view.latency_ms:
        parts.append(Content(f"{view.latency_ms / 1000:.1f}s"))
    if view.error:
        parts.append(Content.from_markup("[$error]$e[/]", e=view.error[:40]))
    return name + Content("\n") + Content(" · ").join(parts)


class AdvisorPane(Vertical):
    """One advisor: a header line and its deliberation, streamed."""

    def __init__(self, name: str) -> None:
        super().__init__(classes="advisor")
        self.advisor = name

    def compose(self) -> ComposeResult:
        """Header and scrolling markdown."""
        yield Static(classes="advisor-head")
        with VerticalScroll(classes="advisor-body"):
            yield Markdown()

    def set_header(self, view: AdvisorView) -> None:
        """Redraw the header, and mark the pane with its state class."""
        self.query_one(".advisor-head", Static).update(advisor_title(view))
        for state in STATE_STYLE:
            self.set_class(view.state == state, f"-{state}")

    async def load(self, view: AdvisorView) -> None:
        """Show `view` from scratch."""
        self.set_header(view)
        await self.query_one(Markdown).update(view.text)
        self.query_one(VerticalScroll).scroll_end(animate=False, immediate=False)

    async def append(self, text: str) -> None:
        """Stream more deliberation in."""
        await self.query_one(Markdown).append(text)
        self.query_one(VerticalScroll).scroll_end(animate=False, immediate=False)


class BriefingPane(Vertical):
    """The judge's briefing; while held, a banner with the time left and the keys."""

    held_until: reactive[float | None] = reactive(None)

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(id="briefing")
        self.clock = clock
        self.title = Content("briefing")

    def compose(self) -> ComposeResult:
        """Banner (hidden unless held) and the markdown."""
        yield Static(id="held-banner")
        with VerticalScroll(id="briefing-body"):
            yield Markdown(id="briefing-md")

    def on_mount(self) -> None:
        """Tick the countdown once a second."""
        self.border_title = "briefing"
        self.set_interval(1.0, self._tick)

    def remaining(self) -> int | None:
        """Whole seconds left on the hold (None when nothing is held)."""
        if self.held_until is None:
            return None
        return max(0, math.ceil(self.held_until - self.clock() - 1e-6))

    def _tick(self) -> None:
        if self.held_until is not None:
            self._banner()

    def _banner(self) -> None:
        banner = self.query_one("#held-banner", Static)
        left = self.remaining()
        banner.display = left is not None
        if left is not None:
            banner.update(Content.from_markup(
                "[b]⏸ HELD[/] the actor waits for you · [b]$left s[/] left · "
                "enter approve · e edit · s skip", left=str(left)))

    def watch_held_until(self) -> None:
        """Show or hide the banner."""
        self.set_class(self.held_until is not None, "-held")
        self._banner()

    async def load(self, turn: TurnView, held_at: float | None) -> None:
        """Show the turn's briefing from scratch."""
        state = turn.briefing_state or "waiting for the advisors"
        judge = f" by {turn.judge}" if turn.judge else ""
        self.border_title = f"briefing{judge} · {state}"
        self.held_until = (held_at + turn.held_timeout_s
                           if turn.held and held_at is not None else None)
        await self.query_one(Markdown).update(turn.briefing)

    async def append(self, text: str) -> None:
        """Stream more briefing in."""
        await self.query_one(Markdown).append(text)
        self.query_one("#briefing-body", VerticalScroll).scroll_end(animate=False,
                                                                    immediate=False)


class CouncilRoom(Vertical):
    """Advisor panes side by side, the briefing under them, for one turn at a time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.shown: str | None = None
        self.held_at: dict[str, float] = {}
        """When each held briefing arrived here (the countdown starts then)."""

    def compose(self) -> ComposeResult:
        """Note line, advisors row, briefing."""
        yield Static("no council yet", id="council-note")
        yield Horizontal(id="advisors")
        yield BriefingPane(self.clock)

    def on_mount(self) -> None:
        """Title the border."""
        self.border_title = "council"

    def panes(self) -> dict[str, AdvisorPane]:
        """Advisor panes by advisor name."""
        return {p.advisor: p for p in self.query(AdvisorPane)}

    async def show(self, turn: TurnView | None, changes: Changes | None = None) -> None:
        """Show `turn`: from scratch when it is new here or was reset, else stream in what
        `changes` appended to it."""
        if turn is not None and turn.held and turn.request_id not in self.held_at:
            self.held_at[turn.request_id] = self.clock()
        if turn is None:
            self.shown = None
            self.query_one("#council-note", Static).update("no council yet")
            await self.query_one("#advisors").remove_children()
            return
        rid = turn.request_id
        fresh = rid != self.shown or changes is None or rid in changes.reset
        self.shown = rid
        note = self._note(turn)
        self.query_one("#council-note", Static).update(note)
        briefing = self.query_one(BriefingPane)
        if fresh:
            panes = self.panes()
            if list(panes) != list(turn.advisors):
                await self.query_one("#advisors").remove_children()
                new = [AdvisorPane(name) for name in turn.advisors]
                await self.query_one("#advisors").mount_all(new)
                panes = self.panes()
            for name, view in turn.advisors.items():
                await panes[name].load(view)
            await briefing.load(turn, self.held_at.get(rid))
            return
        assert changes is not None
        panes = self.panes()
        for request_id, advisor, text in changes.appended:
            if request_id != rid:
                continue
            if advisor == "":
                await briefing.append(text)
            elif advisor in panes:
                await panes[advisor].append(text)
        for name, view in turn.advisors.items():
            if name in panes:
                panes[name].set_header(view)
        state = turn.briefing_state or "waiting for the advisors"
        judge = f" by {turn.judge}" if turn.judge else ""
        briefing.border_title = f"briefing{judge} · {state}"

    def _note(self, turn: TurnView) -> Content:
        if turn.council_note:
            return Content.from_markup("[$warning]$n[/]", n=turn.council_note)
        if not turn.council:
            return Content.from_markup("[$text-muted]$rid: no council on this turn[/]",
                                       rid=turn.request_id)
        done = sum(1 for a in turn.advisors.values() if a.state != "thinking")
        return Content.from_markup(
            "[b]$rid[/] · $n advisors ($d done) · judge $j · actor $a",
            rid=turn.request_id, n=str(len(turn.advisors)), d=str(done),
            j=turn.judge or "none", a=turn.actor or "…")
