"""The live gate feed: one DataTable row per request (tier with its scores, route, who served
it, latency, cost), updated as its events arrive, and one row per steering act."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError
from textual.theme import Theme
from textual.widgets import DataTable

from fusion_tui.config.tiers import TIERS
from fusion_tui.events import (
    CostRecorded,
    Event,
    GateDecided,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
    SteeringApplied,
)
from fusion_tui.tui.bridge import EventBatch
from fusion_tui.tui.widgets.columns import ColumnSpec, fit_columns

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("time", "time UTC", 8),
    ColumnSpec("session", "session", 10, 36),
    ColumnSpec("tier", "tier    crp", 11),
    ColumnSpec("route", "route", 7, 48),
    ColumnSpec("served_by", "served by", 14, 24, drop=3),
    ColumnSpec("status", "status", 6, 9),
    ColumnSpec("latency", "ms", 6, drop=4),
    ColumnSpec("cost", "cost $", 6, drop=5),
    ColumnSpec("tokens", "tokens", 11, drop=6),
)
"""The feed's columns: the flexible ones grow to their content on a wide terminal; tokens,
cost, latency and served-by go, in that order, on a narrow one."""

GROWING = ("session", "route", "served_by", "status")

TIER_ORDER = TIERS
BARS = " ▁▂▃▄▅▆▇█"


def score_bars(scores: dict[str, float]) -> str:
    """One bar character per tier (compact, regular, plan), 0..1 mapped to ▁..█."""
    out = []
    for tier in TIER_ORDER:
        value = scores.get(tier)
        if value is None:
            out.append("·")
        else:
            out.append(BARS[max(0, min(8, round(float(value) * 8)))])
    return " ".join(out)


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
    scores: dict[str, float] | None = None
    reason: str = ""
    route_header: str = ""
    cost_usd: float = 0.0
    unpriced: bool = False
    steering: str = ""

    def apply(self, event: Event) -> None:
        """Fold one of this request's events into the row."""
        if isinstance(event, GateDecided):
            self.tier, self.scores, self.reason = event.tier, dict(event.scores), event.reason
        elif isinstance(event, CostRecorded):
            self.cost_usd += event.cost_usd
            self.unpriced = self.unpriced or not event.priced
        elif isinstance(event, SteeringApplied):
            self.steering = f"{event.action} {event.target} {event.value}".strip()
            self.mode, self.status = "steer", 0
        elif isinstance(event, RequestReceived):
            self.ts, self.model = event.ts, event.model
        elif isinstance(event, RouteChosen):
            self.mode, self.upstream_id = event.mode, event.upstream_id
            self.tier = event.tier if event.tier and event.tier != "-" else self.tier
            self.route_header = event.route
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
    def detail(self) -> str:
        """The reason line: why this tier and this route (shown on enter)."""
        if self.steering:
            return f"steering · {self.steering} · session {self.session_id}"
        parts = [self.request_id, f"session {self.session_id}"]
        if self.tier:
            parts.append(f"tier {self.tier}")
        if self.scores:
            parts.append("scores " + " ".join(f"{k}={v:.2f}" for k, v in self.scores.items()))
        if self.reason:
            parts.append(f"gate: {self.reason}")
        if self.route_header:
            parts.append(f"route: {self.route_header}")
        if self.error:
            parts.append(f"error: {self.error}")
        return " · ".join(parts)

    def text(self) -> str:
        """Everything the filter matches against."""
        return " ".join((self.request_id, self.session_id, self.tier, self.mode,
                         self.upstream_id, self.steering, self.error or "",
                         str(self.status or ""))).lower()

    @property
    def finished(self) -> bool:
        """True once the response finished or the client hung up."""
        return self.status is not None or self.cancelled


def _same_look(old: str | Text | None, new: str | Text) -> bool:
    # Text equality compares the characters and spans, not the style the text was made with
    if isinstance(old, Text) and isinstance(new, Text):
        return old == new and old.style == new.style
    return old == new


FEED_EVENTS = (RequestReceived, GateDecided, RouteChosen, RequestCancelled, ResponseFinished,
               CostRecorded)


class RequestFeed(DataTable[str | Text]):
    """Live feed of requests, newest at the bottom, at most `max_rows` rows.

    Rows are created on RequestReceived (or the first event seen for a request) and updated
    in place; the oldest rows go when the bound is reached. It follows the newest row unless
    the user scrolled up. Events are queued as they come and applied when the screen draws
    a frame (`DashboardScreen.draw_frame`): any change to a DataTable draws every visible row
    again, so applying each of the bridge's ~30 batches a second would cost that 30 times.
    """

    def __init__(self, simulated: Iterable[str] = (), max_rows: int = 500,
                 *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.simulated = frozenset(simulated)
        self.max_rows = max_rows
        self.rows_model: OrderedDict[str, FeedRow] = OrderedDict()
        self.filter_text = ""
        self.only_session: str | None = None
        self.shown_cells: dict[str, dict[str, str | Text]] = {}
        """The cells on screen per row (so a batch updates only the cells that changed)."""
        self.queued: list[Event] = []
        """Events received and not applied yet (until the next flush)."""
        self.layout_columns: list[tuple[str, str, int]] = []
        """(key, label, width) of the columns shown, fitted to the table's width."""
        self.needed: dict[str, int] = {}
        """The longest content seen per growing column."""

    def on_mount(self) -> None:
        """Add the columns; follow the app's theme."""
        self.border_title = "requests · all sessions"
        self.fit_columns()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def on_resize(self) -> None:
        """Fit the columns to the new width."""
        self.fit_columns()

    def fit_columns(self) -> bool:
        """Choose and size the columns for the table's width and content; when that changes
        anything, rebuild the table (rare: a resize, or content longer than a column that
        still has room to grow). Returns whether it rebuilt."""
        width = self.size.width or 120
        columns = fit_columns(COLUMNS, width, self.needed)
        if columns == self.layout_columns:
            return False
        first = not self.layout_columns
        self.layout_columns = columns
        self.clear(columns=True)
        for key, label, size in columns:
            self.add_column(label, key=key, width=size)
        if not first:
            self.set_filter()
        return True

    def _measure(self, row: FeedRow) -> bool:
        """Note the content length of the growing columns; True when a shown column is
        narrower than its new content and could grow."""
        grow = False
        widths = {key: size for key, _, size in self.layout_columns}
        lengths = {"session": len(row.session_id), "route": len(row.steering or row.mode),
                   "served_by": len(self.served_by(row.upstream_id)),
                   "status": 9 if row.cancelled else 3}
        for key in GROWING:
            length = lengths[key]
            if length > self.needed.get(key, 0):
                self.needed[key] = length
                grow = grow or (key in widths and widths[key] < length)
        return grow

    def _values(self, cells: dict[str, str | Text]) -> list[str | Text]:
        return [cells[key] for key, _, _ in self.layout_columns]

    def _shown_keys(self) -> set[str]:
        return {key for key, _, _ in self.layout_columns}

    def _theme_changed(self, theme: Theme) -> None:
        """Cells hold colours resolved when they were built: build the shown ones again."""
        self.restyle()

    def restyle(self) -> None:
        """Build every shown row's cells again (in the current theme's colours), updating
        only the cells that changed; the scroll position stays."""
        for request_id, old in self.shown_cells.items():
            row = self.rows_model.get(request_id)
            if row is None or request_id not in self.rows:
                continue
            cells = self.cells(row)
            shown = self._shown_keys()
            for key, value in cells.items():
                if key in shown and not _same_look(old.get(key), value):
                    self.update_cell(request_id, key, value)
            self.shown_cells[request_id] = cells

    @property
    def settled(self) -> bool:
        """True when every event received is on screen (tests wait for this)."""
        return not self.queued

    def flush(self) -> None:
        """Apply the queued events."""
        if self.queued:
            events, self.queued = self.queued, []
            self.apply_events(events)

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

    def _width(self, key: str) -> int:
        return next((size for k, _, size in self.layout_columns if k == key), 9)

    def cells(self, row: FeedRow) -> dict[str, str | Text]:
        """The row's cells by column key."""
        session = short_session(row.session_id, self._width("session"))
        if row.steering:
            accent = self._style("accent")
            return {"time": utc_clock(row.ts), "session": session,
                    "tier": Text("steer", accent), "route": Text(row.steering, accent),
                    "served_by": "", "status": "", "latency": "", "cost": "", "tokens": ""}
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
        tier = Text(f"{row.tier or '…':<8}"[:8])
        if row.scores:
            tier.append(score_bars(row.scores)[::2], self._style("primary"))
        # "?" for a call with no price; the status bar spells out "price unknown".
        cost = Text("?" if row.unpriced
                    else f"{row.cost_usd:.3f}" if row.cost_usd else "", justify="right")
        return {"time": utc_clock(row.ts), "session": session, "tier": tier,
                "route": row.mode or "…", "served_by": self.served_by(row.upstream_id),
                "status": status, "latency": Text(latency, justify="right"),
                "cost": cost, "tokens": Text(tokens, justify="right")}

    def shows(self, row: FeedRow) -> bool:
        """Whether the row passes the filter and the session choice."""
        if self.only_session is not None and row.session_id != self.only_session:
            return False
        return not self.filter_text or self.filter_text in row.text()

    def set_filter(self, text: str | None = None, only_session: str | None = "") -> None:
        """Show only rows containing `text` (and of `only_session`; "" keeps it as is)."""
        if text is not None:
            self.filter_text = text.strip().lower()
        if only_session != "":
            self.only_session = only_session
        self.clear()
        self.shown_cells.clear()
        for request_id, row in self.rows_model.items():
            if self.shows(row):
                cells = self.shown_cells[request_id] = self.cells(row)
                self.add_row(*self._values(cells), key=request_id)
        self.scroll_end(animate=False, immediate=False)

    def apply_events(self, events: Iterable[Event]) -> None:
        """Fold a batch of events into the rows and redraw only the rows it touched."""
        touched: dict[str, FeedRow] = {}
        for event in events:
            if isinstance(event, SteeringApplied):
                key = f"steer:{event.seq}"
            elif isinstance(event, FEED_EVENTS) and event.request_id:
                key = event.request_id
            else:
                continue
            row = self.rows_model.get(key)
            if row is None:
                row = FeedRow(key, event.session_id, event.ts)
                self.rows_model[key] = row
            row.apply(event)
            touched[key] = row
        evicted = []
        while len(self.rows_model) > self.max_rows:
            old_id, _ = self.rows_model.popitem(last=False)
            evicted.append(old_id)
            touched.pop(old_id, None)
        follow = self.scroll_y >= self.max_scroll_y
        for old_id in evicted:
            self.shown_cells.pop(old_id, None)
            if old_id in self.rows:
                self.remove_row(old_id)
        grow = False
        for row in touched.values():
            grow = self._measure(row) or grow
        if grow and self.fit_columns():
            touched = {}  # the rebuild drew every row
        shown = self._shown_keys()
        for request_id, row in touched.items():
            if not self.shows(row):
                continue
            cells = self.cells(row)
            if request_id in self.rows:
                # every update_cell invalidates the table's render cache: only real changes
                old = self.shown_cells.get(request_id, {})
                for key, value in cells.items():
                    if key in shown and old.get(key) != value:
                        self.update_cell(request_id, key, value)
            else:
                self.add_row(*self._values(cells), key=request_id)
            self.shown_cells[request_id] = cells
        if follow and (touched or grow):
            self.scroll_end(animate=False, immediate=False)

    def on_event_batch(self, message: EventBatch) -> None:
        """Queue the bridge's batch for the next flush (only the events the feed shows)."""
        self.queued.extend(e for e in message.events
                           if isinstance(e, SteeringApplied)
                           or (isinstance(e, FEED_EVENTS) and e.request_id))
