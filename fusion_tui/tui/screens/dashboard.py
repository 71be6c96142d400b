"""The main screen: the live request feed above the status bar."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import EVENT_SINK, RequestFeed, StatusBar


class DashboardScreen(Screen[None]):
    """Header, request feed, status bar, footer."""

    def __init__(self, info: StatusInfo, max_rows: int = 500) -> None:
        super().__init__(name="dashboard")
        self.info = info
        self.max_rows = max_rows

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Header(show_clock=False, icon="◆")
        yield RequestFeed(self.info.simulated_ids, self.max_rows, id="feed",
                          classes=EVENT_SINK)
        yield StatusBar(self.info, id="status", classes=EVENT_SINK)
        yield Footer()
