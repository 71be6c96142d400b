"""Recorded sessions: searchable; enter reads one and hands it back to replay (on a fresh bus).

Reading the folder parses every recording, and a recording can be megabytes: both happen in a
thread (`asyncio.to_thread`), never on the loop the proxy shares, with the table showing its
loading state meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from fusion_tui.sessions.replay import Recording, RecordingError, read_recording
from fusion_tui.sessions.store import SessionSummary, list_sessions


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


class SessionsScreen(Screen[Recording | None]):
    """Every recording in `folder`, newest first. Dismisses with the chosen recording, read."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="sessions_close"),
        Binding("slash", "search", "Search", id="sessions_search"),
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__(name="sessions")
        self.folder = folder
        self.summaries: list[SessionSummary] = []
        self.loaded = False
        """True once the folder was read (tests wait for this)."""
        self.opening: Path | None = None
        """The recording being read, if one is."""
        self._searching = False

    def compose(self) -> ComposeResult:
        """Search box, table, footer."""
        yield Header(show_clock=False, icon="◆")
        yield Input(placeholder="search sessions (id, client, tier)…", id="session-search")
        yield DataTable(id="session-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="session-count")
        yield Footer()

    def on_mount(self) -> None:
        """Start reading the folder in a thread; the table shows it is loading."""
        self.sub_title = f"recorded sessions in {self.folder}"
        table = self.query_one(DataTable)
        table.add_columns("started (UTC)", "session", "client", "duration", "turns",
                          "tiers", "councils", "cost $")
        table.loading = True
        self._count(f"reading the recordings in {self.folder}…")
        # a loading table gives the focus away, and the search box would take it (and the
        # keys: q would be typed, not quit): no search while the folder is read
        self.query_one(Input).disabled = True
        table.focus()
        self.run_worker(self._read_folder(), name="sessions-list", group="sessions",
                        exit_on_error=False)

    async def _read_folder(self) -> None:
        try:
            summaries = await asyncio.to_thread(list_sessions, self.folder)
        except OSError as exc:
            self.query_one(DataTable).loading = False
            self.query_one(Input).disabled = False
            self._count(f"cannot read {self.folder}: {exc.strerror or exc}")
            self.loaded = True
            return
        self.summaries = summaries
        self.loaded = True
        self.query_one(Input).disabled = False
        table = self.query_one(DataTable)
        table.loading = False
        self.fill(self.query_one(Input).value)
        self._focus_table()

    def _focus_table(self) -> None:
        # a loading table gives the focus away (to the search box): take it back unless the
        # user went to the search box themselves
        if not self._searching:
            self.query_one(DataTable).focus()

    def _count(self, text: str) -> None:
        self.query_one("#session-count", Static).update(text)

    def fill(self, query: str) -> None:
        """Rows matching `query`."""
        if not self.loaded:
            return
        table = self.query_one(DataTable)
        table.clear()
        needle = query.strip().lower()
        shown = 0
        for s in self.summaries:
            text = f"{s.session_id} {s.client} {' '.join(s.tiers)}".lower()
            if needle and needle not in text:
                continue
            shown += 1
            table.add_row(_when(s.started), s.session_id[:36], s.client[:20],
                          f"{s.duration_s:,.0f}s", str(s.turns), ",".join(s.tiers) or "-",
                          str(s.councils), f"{s.cost_usd:.4f}", key=s.path)
        self._count(f"{shown} of {len(self.summaries)} sessions · enter replays · "
                    "escape goes back")

    @on(Input.Changed, "#session-search")
    def _search(self, event: Input.Changed) -> None:
        self._searching = self._searching or bool(event.value)
        self.fill(event.value)

    @on(Input.Submitted, "#session-search")
    def _searched(self) -> None:
        self._searching = False
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected, "#session-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        if self.opening is not None or event.row_key.value is None:
            return
        self.opening = Path(str(event.row_key.value))
        self.query_one(Input).disabled = True  # as while listing: q must still quit
        self.query_one(DataTable).loading = True
        self._count(f"reading {self.opening.name}…")
        self.run_worker(self._read(self.opening), name="sessions-open", group="sessions",
                        exit_on_error=False)

    async def _read(self, path: Path) -> None:
        try:
            recording = await asyncio.to_thread(read_recording, path)
        except RecordingError as exc:
            self.opening = None
            self.query_one(Input).disabled = False
            self.query_one(DataTable).loading = False
            self.fill(self.query_one(Input).value)
            self._focus_table()
            self.notify(str(exc), title="cannot replay", severity="error")
            return
        self.dismiss(recording)

    def action_search(self) -> None:
        """Focus the search box."""
        self._searching = True
        self.query_one(Input).focus()

    def action_close(self) -> None:
        """Back."""
        self.dismiss(None)
