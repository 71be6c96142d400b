"""Active sessions: client, tier now (↑ when escalated), actor, turns, cost, saved, cache
hit rate. Owns the room model's folding."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from fusion_tui.tui.bridge import EventBatch
from fusion_tui.tui.room import LANE_SUFFIX, Changes, RoomModel, SessionView, lane_id
from fusion_tui.tui.widgets.columns import ColumnSpec, fit_columns
from fusion_tui.tui.widgets.request_feed import short_session

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("session", "session", 11, 37),
    ColumnSpec("client", "client", 9, 24, drop=3),
    ColumnSpec("tier", "tier", 7),
    ColumnSpec("actor", "actor", 9, 20),
    ColumnSpec("turns", "turns", 5, drop=1),
    ColumnSpec("cost", "cost $", 6, drop=2),
    ColumnSpec("saved", "saved $", 7, drop=4),
    ColumnSpec("cache", "cache", 5, drop=5),
)
"""Client, cost and turns go, in that order, when the pane is narrow; session ids, clients
and actors grow to their length when it is wide."""


class SessionList(DataTable[str | Text]):
    """One row per session, in the order they appeared. Folds every batch into the shared
    `RoomModel` and tells the screen what changed (`RoomChanged`)."""

    class RoomChanged(Message):
        """The room model changed; `changes` says where."""

        def __init__(self, changes: Changes) -> None:
            super().__init__()
            self.changes = changes

    def __init__(self, model: RoomModel, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.model = model
        self._shown: dict[str, dict[str, str | Text]] = {}
        self._dirty: set[str] = set()
        self.layout_columns: list[tuple[str, str, int]] = []
        """(key, label, width) of the columns shown, fitted to the pane's width."""

    def on_mount(self) -> None:
        """Add the columns."""
        self.border_title = "sessions"
        self.fit_columns()

    def on_resize(self) -> None:
        """Fit the columns to the new width."""
        self.fit_columns()

    def fit_columns(self) -> None:
        """Choose and size the columns for the pane's width (content length: the sessions
        in the model); rebuild the rows when that changes anything."""
        needed = {"session": 1 + max((len(s) for s, v in self.model.sessions.items()
                                      if v.parent is None), default=len(LANE_SUFFIX)),
                  "client": max((len(v.client) for v in self.model.sessions.values()),
                                default=0),
                  "actor": max((len(v.actor) for v in self.model.sessions.values()),
                               default=0)}
        columns = fit_columns(COLUMNS, self.size.width or 60, needed)
        if columns == self.layout_columns:
            return
        self.layout_columns = columns
        self.rebuild(columns=True)

    def ordered(self) -> list[SessionView]:
        """Sessions in the order they appeared, each followed by its sub-agent lane."""
        views = self.model.sessions
        out: list[SessionView] = []
        for session_id, view in views.items():
            if view.parent is None:
                out.append(view)
                lane = views.get(lane_id(session_id))
                if lane is not None:
                    out.append(lane)
            elif view.parent not in views:
                out.append(view)  # its parent went past the bound
        return out

    def rebuild(self, columns: bool = False) -> None:
        """Every row again, in `ordered` order (the columns too with `columns`); the cursor
        stays on the session it was on."""
        selected = self.selected
        self.clear(columns=columns)
        self._shown.clear()
        self._dirty.clear()
        if columns:
            for key, label, size in self.layout_columns:
                self.add_column(label, key=key, width=size)
        for view in self.ordered():
            cells = self._shown[view.session_id] = self.cells(view)
            self.add_row(*self._values(cells), key=view.session_id)
        if selected:
            self.select(selected)

    def _values(self, cells: dict[str, str | Text]) -> list[str | Text]:
        return [cells[key] for key, _, _ in self.layout_columns]

    def _width(self, key: str) -> int:
        return next((size for k, _, size in self.layout_columns if k == key), 11)

    def cells(self, view: SessionView) -> dict[str, str | Text]:
        """The session's cells by column key."""
        live = "●" if view.in_flight else " "
        name = (LANE_SUFFIX if view.parent is not None
                else short_session(view.session_id, self._width("session") - 1))
        rate = view.cache_hit_rate
        tier = (view.tier + "↑" if view.escalated else view.tier) or "…"
        return {"session": live + name,
                "client": short_session(view.client, self._width("client")) or "…",
                "tier": tier,
                "actor": view.actor or "…", "turns": Text(str(view.turns), justify="right"),
                "cost": Text(f"{view.cost_usd:.3f}", justify="right"),
                "saved": Text("-" if view.saved_usd is None else f"{view.saved_usd:.3f}",
                              justify="right"),
                "cache": Text("-" if rate is None else f"{rate:.0%}", justify="right")}

    @property
    def selected(self) -> str | None:
        """The session under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def select(self, session_id: str) -> None:
        """Move the cursor to `session_id`'s row."""
        if session_id in self.rows:
            self.move_cursor(row=self.get_row_index(session_id))

    def on_event_batch(self, message: EventBatch) -> None:
        """Fold the batch and tell the screen at once; rows come and go at once too, while
        changes to rows already shown wait for the screen's next frame (any change to a
        DataTable draws every visible row again, and a busy session changes with nearly
        every batch)."""
        changes = self.model.apply(message.events)
        for gone in [k for k in self.rows if str(k.value) not in self.model.sessions]:
            self._shown.pop(str(gone.value), None)
            self._dirty.discard(str(gone.value))
            self.remove_row(gone)
        for session_id in changes.sessions:
            view = self.model.sessions.get(session_id)
            if view is None:
                continue
            if session_id in self.rows:
                self._dirty.add(session_id)
            elif view.parent is not None:
                self.rebuild()  # a lane goes right under its session (rare: once each)
            else:
                cells = self._shown[session_id] = self.cells(view)
                self.add_row(*self._values(cells), key=session_id)
                self.call_later(self.fit_columns)  # a longer id or client may fit wider
        if changes.sessions:
            self.post_message(self.RoomChanged(changes))

    @property
    def settled(self) -> bool:
        """True when every row shows its session's latest state (tests wait for this)."""
        return not self._dirty

    def redraw(self) -> None:
        """Update the cells that changed in rows waiting for a redraw."""
        dirty, self._dirty = self._dirty, set()
        if dirty:
            self.fit_columns()  # an actor named since may fit wider (rebuilds only then)
        for session_id in dirty:
            view = self.model.sessions.get(session_id)
            if view is None or session_id not in self.rows:
                continue
            cells = self.cells(view)
            old = self._shown.get(session_id, {})
            shown = {key for key, _, _ in self.layout_columns}
            for key, value in cells.items():
                if key in shown and old.get(key) != value:  # invalidates the render cache
                    self.update_cell(session_id, key, value)
            self._shown[session_id] = cells
