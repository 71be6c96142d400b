"""Active sessions: client, tier now (↑ when escalated), actor, turns, cost, saved, cache
hit rate. Owns the room model's folding."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from fusion_tui.tui.bridge import EventBatch
from fusion_tui.tui.room import Changes, RoomModel, SessionView
from fusion_tui.tui.widgets.request_feed import short_session

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("session", "session", 11),
    ("client", "client", 9),
    ("tier", "tier", 7),
    ("actor", "actor", 9),
    ("turns", "turns", 5),
    ("cost", "cost $", 6),
    ("saved", "saved $", 7),
    ("cache", "cache", 5),
)


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

    def on_mount(self) -> None:
        """Add the columns."""
        self.border_title = "sessions"
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def cells(self, view: SessionView) -> dict[str, str | Text]:
        """The session's cells by column key."""
        live = "●" if view.in_flight else " "
        rate = view.cache_hit_rate
        tier = (view.tier + "↑" if view.escalated else view.tier) or "…"
        return {"session": live + short_session(view.session_id, 10),
                "client": view.client[:9] or "…", "tier": tier,
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
            else:
                cells = self._shown[session_id] = self.cells(view)
                self.add_row(*cells.values(), key=session_id)
        if changes.sessions:
            self.post_message(self.RoomChanged(changes))

    @property
    def settled(self) -> bool:
        """True when every row shows its session's latest state (tests wait for this)."""
        return not self._dirty

    def redraw(self) -> None:
        """Update the cells that changed in rows waiting for a redraw."""
        dirty, self._dirty = self._dirty, set()
        for session_id in dirty:
            view = self.model.sessions.get(session_id)
            if view is None or session_id not in self.rows:
                continue
            cells = self.cells(view)
            old = self._shown.get(session_id, {})
            for key, value in cells.items():
                if old.get(key) != value:  # update_cell invalidates the render cache
                    self.update_cell(session_id, key, value)
            self._shown[session_id] = cells
