"""The live request feed: one DataTable row per request, updated as its events arrive."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError
from textual.widgets import DataTable

from fusion_tui.events import (
    Event,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
)
from fusion_tui.tui.bridge import EventBatch

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("time", "time (UTC)", 10),
    ("session", "session", 12),
    ("route", "route", 14),
    ("served_by", "served by", 22),
    ("status", "status", 11),
    ("latency", "latency ms", 10),
    ("tokens", "tokens in/out", 13),
)
"""(key, label, width) of each column."""


def short_session(session_id: str, width: int = 10) -> str:
    """A session id cut to `width` characters, with an ellipsis when cut."""
    if len(session_id) <= width:
        return session_id
    return session_id[: width - 1] + "…"


def utc_clock(ts: float) -> str:
    """Wall-clock seconds as HH:MM:SS in UTC (the same on every machine)."""
    return time.strftime("%H:%M:%S", time.gmtime(ts))


@dataclass
class FeedRow:
    """What the feed knows about one request."""

    request_id: str
    session_id: str
    ts: float
    model: str = ""
    mode: str = ""
    tier: str = ""
    upstream_id: str = ""
    status: int | None = None
    cancelled: bool = False
    error: str | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    def apply(self, event: Event) -> None:
        """Fold one of this request's events into the row."""
        if isinstance(event, RequestReceived):
            self.ts, self.model = event.ts, event.model
        elif isinstance(event, RouteChosen):
            self.mode, self.tier, self.upstream_id = event.mode, event.tier, event.upstream_id
        elif isinstance(event, RequestCancelled):
            self.cancelled = True
            self.error = event.reason
        elif isinstance(event, ResponseFinished):
            self.status, self.upstream_id = event.status, event.upstream_id or self.upstream_id
            self.latency_ms = event.latency_ms
            self.input_tokens, self.output_tokens = event.input_tokens, event.output_tokens
            self.error = self.error or event.error

    @property
    def route(self) -> str:
        """`tier/mode`, or just the mode while no tier was judged."""
        if self.tier and self.tier != "-":
            return f"{self.tier}/{self.mode}"
        return self.mode or "…"

    @property
    def finished(self) -> bool:
        """True once the response finished or the client hung up."""
        return self.status is not None or self.cancelled


FEED_EVENTS = (RequestReceived, RouteChosen, RequestCancelled, ResponseFinished)


class RequestFeed(DataTable[str | Text]):
    """Live feed of requests, newest at the bottom, at most `max_rows` rows.

    Rows are created on RequestReceived (or the first event seen for a request) and updated
    in place; the oldest rows go when the bound is reached. It follows the newest row unless
    the user scrolled up.
    """

    def __init__(self, simulated: Iterable[str] = (), max_rows: int = 500,
                 *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.simulated = frozenset(simulated)
        self.max_rows = max_rows
        self.rows_model: OrderedDict[str, FeedRow] = OrderedDict()

    def on_mount(self) -> None:
        """Add the columns."""
        self.border_title = "requests"
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def _style(self, variable: str) -> Style:
        """Rich cells cannot name CSS variables, so resolve the theme's colour here."""
        value = self.app.theme_variables.get(variable, "")
        try:
            return Style(color=Color.parse(value).rich_color)
        except ColorParseError:
            return Style()

    def served_by(self, upstream_id: str) -> str:
        """The upstream id, marked `(sim)` when it is a simulated model."""
        if not upstream_id:
            return "…"
        return f"{upstream_id} (sim)" if upstream_id in self.simulated else upstream_id

    def cells(self, row: FeedRow) -> dict[str, str | Text]:
        """The row's cells by column key."""
        if row.cancelled:
            status = Text("cancelled", self._style("warning"))
        elif row.status is None:
            status = Text("…", Style(dim=True))
        elif row.status >= 400:
            status = Text(str(row.status), self._style("error"))
        else:
            status = Text(str(row.status), self._style("success"))
        latency = "…" if row.latency_ms is None else f"{row.latency_ms:,.0f}"
        tokens = ("…" if row.input_tokens is None
                  else f"{row.input_tokens:,}/{row.output_tokens or 0:,}")
        return {"time": utc_clock(row.ts), "session": short_session(row.session_id),
                "route": row.route, "served_by": self.served_by(row.upstream_id),
                "status": status, "latency": Text(latency, justify="right"),
                "tokens": Text(tokens, justify="right")}

    def apply_events(self, events: Iterable[Event]) -> None:
        """Fold a batch of events into the rows and redraw only the rows it touched."""
        touched: dict[str, FeedRow] = {}
        for event in events:
            if not isinstance(event, FEED_EVENTS) or not event.request_id:
                continue
            row = self.rows_model.get(event.request_id)
            if row is None:
                row = FeedRow(event.request_id, event.session_id, event.ts)
                self.rows_model[event.request_id] = row
            row.apply(event)
            touched[event.request_id] = row
        evicted = []
        while len(self.rows_model) > self.max_rows:
            old_id, _ = self.rows_model.popitem(last=False)
            evicted.append(old_id)
            touched.pop(old_id, None)
        follow = self.scroll_y >= self.max_scroll_y
        for old_id in evicted:
            if old_id in self.rows:
                self.remove_row(old_id)
        for request_id, row in touched.items():
            cells = self.cells(row)
            if request_id in self.rows:
                for key, value in cells.items():
                    self.update_cell(request_id, key, value)
            else:
                self.add_row(*cells.values(), key=request_id)
        if follow and touched:
            self.scroll_end(animate=False, immediate=False)

    def on_event_batch(self, message: EventBatch) -> None:
        """Apply the bridge's batch."""
        self.apply_events(message.events)
