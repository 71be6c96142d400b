"""The council room: one pane per advisor streaming its deliberation as markdown, and the
judge's briefing under them (with the hold countdown when a person must decide)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from fusion_tui.tui.room import AdvisorView, Changes, TurnView
from fusion_tui.tui.widgets.markdown_stream import MarkdownStream

SHOWN_CHARS = 4_000
"""How much of a deliberation a pane keeps: older finished blocks drop off the top, so a
pane's lines stay bounded however long an advisor talks."""

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


class StreamedMarkdown:
    """Text streamed into one `MarkdownStream`: buffered as it arrives and appended when the
    screen draws a frame (`DashboardScreen.draw_frame`), every pane at once."""

    def __init__(self, view: MarkdownStream) -> None:
        self.view = view
        self.pending: list[str] = []

    def feed(self, text: str) -> None:
        """Buffer `text` until the next flush."""
        self.pending.append(text)

    def load(self, text: str) -> None:
        """Show `text` from scratch (what was buffered is part of it already): its last
        `SHOWN_CHARS` or so, from a line start."""
        self.pending.clear()
        if len(text) > SHOWN_CHARS:
            cut = len(text) - SHOWN_CHARS
            line = text.find("\n", cut)
            text = text[line + 1 if line >= 0 else cut:]
        self.view.update(text)

    def flush(self) -> None:
        """Append what was buffered."""
        if self.pending:
            text = "".join(self.pending)
            self.pending.clear()
            self.view.append(text)


class AdvisorPane(Vertical):
    """One advisor: a header line and its deliberation, streamed."""

    def __init__(self, name: str) -> None:
        super().__init__(classes="advisor")
        self.advisor = name
        self.view: AdvisorView | None = None
        self._header: Hashable = None
        self._text: StreamedMarkdown | None = None

    def compose(self) -> ComposeResult:
        """Header and the streamed markdown (it scrolls itself, following the end)."""
        yield Static(classes="advisor-head")
        yield MarkdownStream(SHOWN_CHARS, classes="advisor-body")

    def on_mount(self) -> None:
        """Wire the stream buffer to the markdown view (and show a header set early)."""
        self._text = StreamedMarkdown(self.query_one(MarkdownStream))
        if self.view is not None:  # loaded before it was composed
            self.set_header(self.view)
            self._text.load(self.view.text)

    def set_header(self, view: AdvisorView) -> None:
        """Redraw the header and the pane's state class, if they changed."""
        key = (view.name, view.perspective, view.state, view.tokens, view.latency_ms,
               view.error)
        if key == self._header:
            return
        head = next(iter(self.query(".advisor-head").results(Static)), None)
        if head is None:  # not composed yet (a selection change raced a frame): on_mount
            self.view = view
            return
        self._header = key
        # fixed height (CSS): a new token count needs a repaint, not a screen layout pass
        head.update(advisor_title(view), layout=False)
        for state in STATE_STYLE:
            self.set_class(view.state == state, f"-{state}")

    async def load(self, view: AdvisorView) -> None:
        """Show `view` from scratch."""
        self.view = view
        self.set_header(view)
        if self._text is None:  # not mounted yet: on_mount shows it
            return
        self._text.load(view.text)

    def append(self, text: str) -> None:
        """Stream more deliberation in (at the next flush)."""
        if self._text is not None:
            self._text.feed(text)

    async def flush(self) -> None:
        """Append the buffered deliberation."""
        if self._text is not None:
            self._text.flush()


class BriefingPane(Vertical):
    """The judge's briefing; while held, a banner with the time left and the keys."""

    held_until: reactive[float | None] = reactive(None)

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(id="briefing")
        self.clock = clock
        self.title = Content("briefing")
        self.turn: TurnView | None = None
        self._text: StreamedMarkdown | None = None
        self._shown_left: int | None = None

    def compose(self) -> ComposeResult:
        """Banner (hidden unless held) and the markdown."""
        yield Static(id="held-banner")
        yield MarkdownStream(SHOWN_CHARS, id="briefing-body")

    def on_mount(self) -> None:
        """Tick the countdown four times a second (a whole-second tick started at mount
        would show each count up to a second late)."""
        self.border_title = "briefing"
        self._text = StreamedMarkdown(self.query_one(MarkdownStream))
        self.set_interval(0.25, self._tick)

    def remaining(self) -> int | None:
        """Whole seconds left on the hold (None when nothing is held)."""
        if self.held_until is None:
            return None
        return max(0, math.ceil(self.held_until - self.clock() - 1e-6))

    def _tick(self) -> None:
        if self.held_until is not None and self.remaining() != self._shown_left:
            self._banner()

    def _banner(self) -> None:
        banner = self.query_one("#held-banner", Static)
        left = self.remaining()
        self._shown_left = left
        banner.display = left is not None
        if left is not None:
            waits = "" if 0 < banner.size.width < 80 else " the actor waits for you ·"
            banner.update(Content.from_markup(
                f"[b]⏸ HELD[/]{waits} [b]$left s[/] left · enter approve · e edit · s skip",
                left=str(left)))

    def on_resize(self) -> None:
        """The banner's wording follows the width (short on a narrow pane)."""
        if self.held_until is not None:
            self._banner()

    def watch_held_until(self) -> None:
        """Show or hide the banner."""
        self.set_class(self.held_until is not None, "-held")
        self._banner()

    def set_title(self, turn: TurnView) -> None:
        """Who wrote the briefing and where it stands, in the border."""
        state = turn.briefing_state or "waiting for the advisors"
        judge = f" by {turn.judge}" if turn.judge else ""
        title = f"briefing{judge} · {state}"
        if self.border_title != title:
            self.border_title = title

    async def load(self, turn: TurnView, held_at: float | None) -> None:
        """Show the turn's briefing from scratch."""
        self.turn = turn
        self.set_title(turn)
        self.held_until = (held_at + turn.held_timeout_s
                           if turn.held and held_at is not None else None)
        assert self._text is not None  # mounted
        body = self._text.view
        body.follow = not turn.held
        self._text.load(turn.briefing)
        if turn.held:
            # a person reads a held briefing to decide on it: from its top (the
            # recommended next action is not at its end)
            body.show_top()

    def append(self, text: str) -> None:
        """Stream more briefing in (at the next flush)."""
        if self._text is not None:
            self._text.feed(text)

    async def flush(self) -> None:
        """Append the buffered briefing (the view follows its end)."""
        if self._text is not None:
            self._text.flush()


class CouncilRoom(Vertical):
    """Advisor panes side by side, the briefing under them, for one turn at a time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.shown: str | None = None
        self._note_key: Hashable = None
        self._panes: dict[str, AdvisorPane] = {}

    def compose(self) -> ComposeResult:
        """Note line, advisors row, briefing."""
        yield Static("no council yet", id="council-note")
        yield Horizontal(id="advisors")
        yield BriefingPane(self.clock)

    def on_mount(self) -> None:
        """Title the border."""
        self.border_title = "council"

    async def flush(self) -> None:
        """Append every pane's buffered text."""
        for pane in list(self._panes.values()):
            await pane.flush()
        await self.query_one(BriefingPane).flush()

    @property
    def settled(self) -> bool:
        """True when no streamed text waits for the next flush (tests wait for this)."""
        streams = [p._text for p in self._panes.values()]
        streams.append(self.query_one(BriefingPane)._text)
        return not any(s is not None and s.pending for s in streams)

    async def _set_advisors(self, names: list[str]) -> dict[str, AdvisorPane]:
        panes = self.panes()
        if list(panes) != names:
            row = self.query_one("#advisors")
            self._panes = {}
            await row.remove_children()
            new = {name: AdvisorPane(name) for name in names}
            await row.mount_all(list(new.values()))
            self._panes = new
            panes = self.panes()
        return panes

    def _set_note(self, turn: TurnView | None) -> None:
        key: Hashable = None
        if turn is not None:
            done = sum(1 for a in turn.advisors.values() if a.state != "thinking")
            key = (turn.request_id, turn.council_note, turn.council, len(turn.advisors), done,
                   turn.judge, turn.actor)
        if key != self._note_key:
            self._note_key = key
            self.query_one("#council-note", Static).update(  # one line (CSS): no layout
                "no council yet" if turn is None else self._note(turn), layout=False)

    def panes(self) -> dict[str, AdvisorPane]:
        """Advisor panes by advisor name."""
        return dict(self._panes)

    async def show(self, turn: TurnView | None, changes: Changes | None = None) -> None:
        """Show `turn`: from scratch when it is new here or was reset, else buffer what
        `changes` appended to it (written at the next flush) and touch only what changed."""
        if turn is not None and turn.held and turn.held_at is None:
            # the countdown starts when the held briefing reaches the screen; kept on the turn
            # so it goes when the turn leaves the model's bounded history
            turn.held_at = self.clock()
        self._set_note(turn)
        if turn is None:
            self.shown = None
            await self._set_advisors([])
            return
        rid = turn.request_id
        fresh = rid != self.shown or changes is None or rid in changes.reset
        self.shown = rid
        briefing = self.query_one(BriefingPane)
        if fresh:
            panes = await self._set_advisors(list(turn.advisors))
            for name, view in turn.advisors.items():
                await panes[name].load(view)
            await briefing.load(turn, turn.held_at)
            return
        assert changes is not None
        panes = self.panes()
        for request_id, advisor, text in changes.appended:
            if request_id != rid:
                continue
            if advisor == "":
                briefing.append(text)
            elif advisor in panes:
                panes[advisor].append(text)
        for name, view in turn.advisors.items():
            if name in panes:
                panes[name].set_header(view)
        briefing.set_title(turn)

    def _note(self, turn: TurnView) -> Content:
        if turn.council_note:
            return Content.from_markup("[$warning]$n[/]", n=turn.council_note)
        if not turn.council:
            return Content.from_markup("[$text-muted]$rid: no council on this turn[/]",
                                       rid=turn.request_id)
        done = sum(1 for a in turn.advisors.values() if a.state != "thinking")
        if turn.panel:
            return Content.from_markup(
                "[b]$rid[/] · panel of $n ($d answered) · $j fuses the answers (no tools)",
                rid=turn.request_id, n=str(len(turn.advisors)), d=str(done),
                j=turn.judge or "the judge")
        return Content.from_markup(
            "[b]$rid[/] · $n advisors ($d done) · judge $j · actor $a",
            rid=turn.request_id, n=str(len(turn.advisors)), d=str(done),
            j=turn.judge or "none", a=turn.actor or "…")
