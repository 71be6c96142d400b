"""Recorded sessions: searchable; enter opens one in replay (on a fresh bus)."""

from __future__ import annotations

import time
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from fusion_tui.sessions.store import SessionSummary, list_sessions


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


class SessionsScreen(Screen[str | None]):
    """Every recording in `folder`, newest first. Dismisses with the chosen file's path."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="sessions_close"),
        Binding("slash", "search", "Search", id="sessions_search"),
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__(name="sessions")
        self.folder = folder
        self.summaries: list[SessionSummary] = []

    def compose(self) -> ComposeResult:
        """Search box, table, footer."""
        yield Header(show_clock=False, icon="◆")
        yield Input(placeholder="search sessions (id, client, tier)…", id="session-search")
        yield DataTable(id="session-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="session-count")
        yield Footer()

    def on_mount(self) -> None:
        """Read the folder."""
        self.sub_title = f"recorded sessions in {self.folder}"
        table = self.query_one(DataTable)
        table.add_columns("started (UTC)", "session", "client", "duration", "turns",
                          "tiers", "councils", "cost $")
        self.summaries = list_sessions(self.folder)
        self.fill("")
        table.focus()

    def fill(self, query: str) -> None:
        """Rows matching `query`."""
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
        self.query_one("#session-count", Static).update(
            f"{shown} of {len(self.summaries)} sessions · enter replays · escape goes back")

    @on(Input.Changed, "#session-search")
    def _search(self, event: Input.Changed) -> None:
        self.fill(event.value)

    @on(Input.Submitted, "#session-search")
    def _searched(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected, "#session-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value))

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one(Input).focus()

    def action_close(self) -> None:
        """Back."""
        self.dismiss(None)
