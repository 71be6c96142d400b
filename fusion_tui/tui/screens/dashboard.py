"""The live screen: sessions, the gate feed, the council room, the actor, the status bar.

Every steering key acts through `Controls` (never the core otherwise); each act publishes
`SteeringApplied`, which comes back through the bridge as a feed row.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from fusion_tui.config.council import HoldMode
from fusion_tui.core.controls import SteeringError
from fusion_tui.core.steering_api import Act, SteeringControls
from fusion_tui.tui.room import Changes, RoomModel, TurnView
from fusion_tui.tui.screens.compose import composer
from fusion_tui.tui.screens.confirm import ConfirmScreen
from fusion_tui.tui.screens.edit_briefing import EditBriefingScreen
from fusion_tui.tui.screens.help import HelpScreen, key_rows
from fusion_tui.tui.screens.picker import PickerScreen
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import EVENT_SINK, RequestFeed, StatusBar
from fusion_tui.tui.widgets.actor_pane import ActorPane
from fusion_tui.tui.widgets.council_room import CouncilRoom
from fusion_tui.tui.widgets.session_list import SessionList

STEERING = {"force_tier", "lock_tier", "swap_actor", "mute", "council", "council_global", "hold",
            "pin", "drop", "compose"}
GLOBAL = {"hold", "council", "council_global", "compose"}
"""Steering that needs no selected session (`council` acts everywhere when none is)."""
HELD = {"approve", "edit", "skip"}


FRAME_S = 0.2
"""How often buffered updates reach the screen (5 frames a second). Events arrive with every
bridge batch (~30 a second); drawing each would cost a layout pass and a redraw of the
tables each time, on the loop the proxy shares."""

TABLE_FRAMES = 2
"""The tables (feed, sessions) are redrawn every this many frames (2.5 times a second):
any change to a DataTable draws every visible row again, the most expensive part of a
frame, and a glance at a table needs no more."""


NARROW_MAX_COLS = 100
"""At or below this width the room is one column: sessions and actor side by side on top,
then the feed and the council room stacked, or as tabs (`w`) on a short terminal."""

WIDE_MIN_COLS = 160
"""From this width the left column widens too (session ids, clients, actors in full)."""

STACK_MIN_ROWS = 34
"""A narrow room at least this tall stacks the feed over the council room; a shorter one
shows one of them at a time."""


class DashboardScreen(Screen[None]):
    """The meeting room. `controls` None (replay, tests of the view): steering keys are off."""

    BINDINGS = [
        Binding("1", "force_tier('compact')", "Compact next", id="tier_compact"),
        Binding("2", "force_tier('regular')", "Regular next", id="tier_regular"),
        Binding("3", "force_tier('plan')", "Plan next", id="tier_plan"),
        Binding("0", "lock_tier('')", "Auto tier", id="tier_auto"),
        Binding("l", "lock_tier", "Lock tier", id="tier_lock"),
        Binding("a", "swap_actor", "Swap actor", id="swap_actor"),
        Binding("v", "mute", "Mute advisor", id="mute_advisor"),
        Binding("V", "compose", "Compose council", id="compose_council", show=False),
        Binding("c", "council", "Council on/off", id="council_toggle"),
        # the footer is full; `c` stands for both there, help lists this one
        Binding("C", "council_global", "Council everywhere", id="council_global", show=False),
        Binding("h", "hold", "Hold on/off", id="hold_toggle"),
        # priority: enter approves whichever widget has focus (the sessions table would take
        # it), except where enter has a meaning of its own (check_action)
        Binding("enter", "approve", "Approve briefing", id="briefing_approve", priority=True),
        Binding("e", "edit", "Edit briefing", id="briefing_edit"),
        Binding("s", "skip", "Skip briefing", id="briefing_skip"),
        Binding("p", "pin", "Pin/unpin", id="pin_toggle"),
        Binding("x", "drop", "Drop request", id="drop_request"),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("f", "feed_scope", "Feed: all/session", id="feed_scope"),
        Binding("S", "sessions", "Sessions", id="sessions"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("w", "toggle_view", "Council/requests", id="view_toggle", show=False),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_MAX_COLS + 1, "-normal"),
                              (WIDE_MIN_COLS, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (STACK_MIN_ROWS, "-tall")]

    selected: reactive[str | None] = reactive(None)

    def __init__(self, info: StatusInfo, max_rows: int = 500,
                 controls: SteeringControls | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name="dashboard")
        self.info = info
        self.max_rows = max_rows
        self.controls = controls
        self.clock = clock
        self.model = RoomModel()
        self._binding_state: tuple[bool, bool] | None = None
        self._frames = 0
        self._changes: Changes | None = None
        """What the batches since the last frame changed in the selected session."""
        self._reselect = False
        """The selection changed: the next frame shows its session from scratch."""
        self._owed = False
        """A frame was asked for while the lock was held: drawn as soon as it is released."""
        self.frame_lock = asyncio.Lock()
        """Held while a frame is drawn; whoever rebuilds the screen's widgets holds it too
        (through `drawing`)."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Header(show_clock=False, icon="◆")
        yield from self.compose_banner()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield SessionList(self.model, id="sessions", classes=EVENT_SINK)
                yield ActorPane(id="actor")
            with Vertical(id="right"):
                yield Static(id="view-tabs")
                yield Input(placeholder="filter: session, tier, upstream, status… (enter)",
                            id="filter")
                yield RequestFeed(self.info.simulated_ids, self.max_rows, id="feed",
                                  classes=EVENT_SINK)
                yield Static("enter on a row: why it went where it went", id="detail")
                yield CouncilRoom(self.clock, id="council")
        yield StatusBar(self.info, id="status", classes=EVENT_SINK)
        yield Footer()

    def compose_banner(self) -> ComposeResult:
        """Nothing on the live screen (the replay screen shows its banner here)."""
        yield from ()

    def on_mount(self) -> None:
        """Draw a frame `1 / FRAME_S` times a second."""
        self.set_interval(FRAME_S, self.draw_frame)
        self._show_tabs()

    @property
    def tabbed(self) -> bool:
        """True when the council room and the feed share the space as tabs (narrow and
        short), one shown at a time."""
        return self.has_class("-narrow") and self.has_class("-short")

    def action_toggle_view(self, view: str | None = None) -> None:
        """Council room or feed, where they are tabs (`view` picks one)."""
        showing = "requests" if self.has_class("-view-requests") else "council"
        wanted = view or ("council" if showing == "requests" else "requests")
        self.set_class(wanted == "requests", "-view-requests")
        self._show_tabs()

    def _show_tabs(self) -> None:
        requests = self.has_class("-view-requests")
        tabs = [("council", not requests), ("requests", requests)]
        label = Content(" ").join(
            Content.from_markup("[b reverse] $t [/]" if on else "[$text-muted] $t [/]", t=t)
            for t, on in tabs)
        key = self.app.get_key_display(Binding(self._key_for("view_toggle", "w"), ""))
        self.query_one("#view-tabs", Static).update(
            label + Content.from_markup("  [$text-muted]$k switches[/]", k=key))

    def _key_for(self, binding_id: str, default: str) -> str:
        keymap = getattr(self.app, "_keymap", None) or {}
        return str(keymap.get(binding_id, default)).split(",")[0]

    async def draw_frame(self) -> None:
        """Put on screen what the widgets buffered since the last frame (streamed
        deliberation; feed and session rows every `TABLE_FRAMES`), all in one screen
        update: one layout pass a frame instead of one per widget and timer.

        Called by the frame timer, and at once when the selection changes. A call while
        the lock is held (a frame being drawn, the screen being rebuilt) is not lost: the
        frame is drawn as soon as the lock is released, so whatever arrived meanwhile
        always reaches the screen."""
        if self.frame_lock.locked():
            self._owed = True
            return
        async with self.drawing():
            await self._draw()

    @contextlib.asynccontextmanager
    async def drawing(self) -> AsyncIterator[None]:
        """Hold the frame lock (to draw a frame, or to rebuild the screen's widgets); a
        frame asked for meanwhile follows right after."""
        async with self.frame_lock:
            yield
        if self._owed:
            self._owed = False
            self._schedule_frame()

    def _schedule_frame(self) -> None:
        # next in this screen's message loop: a frame the screen's messages ask for is drawn
        # once the current handler returns; a screen being closed runs no more of them. Not
        # a one-shot timer: Textual skips one that comes due late, for good.
        self.call_later(self.draw_frame)

    async def _draw(self) -> None:
        self._frames += 1
        status, feed = self.query_one(StatusBar), self.query_one(RequestFeed)
        sessions, room = self.query_one(SessionList), self.query_one(CouncilRoom)
        with self.app.batch_update():
            if self._reselect or self._changes is not None:
                changes, self._changes = self._changes, None
                if self._reselect:
                    self._reselect, changes = False, None  # from scratch
                await self._show(changes)
                self._refresh_bindings_if_changed()
            status.flush()
            if self._frames % TABLE_FRAMES == 0:
                feed.flush()
                sessions.redraw()
            await room.flush()

    @property
    def settled(self) -> bool:
        """True when everything the widgets were sent is on screen (tests wait for this)."""
        return (self._changes is None and not self._reselect and not self._owed
                and not self.frame_lock.locked() and self.query_one(RequestFeed).settled
                and self.query_one(SessionList).settled and self.query_one(StatusBar).settled
                and self.query_one(CouncilRoom).settled)

    # --- what is selected ------------------------------------------------------------------

    def current_turn(self) -> TurnView | None:
        """The selected session's current turn."""
        view = self.model.sessions.get(self.selected or "")
        return view.current if view else None

    def steered_session(self) -> str:
        """The session steering acts on: the selected one, or the session a selected
        sub-agent lane belongs to (its requests carry that session's id)."""
        view = self.model.sessions.get(self.selected or "")
        if view is not None and view.parent is not None:
            return view.parent
        return self.selected or ""

    def held_request(self) -> str | None:
        """The held briefing to decide: the selected session's, else the oldest held."""
        turn = self.current_turn()
        if turn is not None and turn.held:
            return turn.request_id
        return next(iter(self.model.held), None)

    async def on_session_list_room_changed(self, message: SessionList.RoomChanged) -> None:
        """Redraw the room for the selected session."""
        if self.selected is None or self.selected not in self.model.sessions:
            if self.model.sessions:
                self.selected = next(iter(self.model.sessions))
                return
        if self.selected in message.changes.sessions:
            if self._changes is None:
                self._changes = Changes()
            self._changes.merge(message.changes)

    def _refresh_bindings_if_changed(self) -> None:
        # The footer rebuilds all its keys on every refresh_bindings(), which at 30 batches a
        # second was most of the dashboard's time: refresh only when what check_action
        # decides on (a selection, a held briefing) changed.
        state = (bool(self.selected), self.held_request() is not None)
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    async def _show(self, changes: object | None = None) -> None:
        turn = self.current_turn()
        await self.query_one(CouncilRoom).show(
            turn, changes if isinstance(changes, Changes) else None)
        self.query_one(ActorPane).show(turn)

    async def watch_selected(self, session_id: str | None) -> None:
        """Point the council room, the actor pane and the status bar at the session."""
        self.query_one(StatusBar).session_id = session_id or ""
        sessions = self.query_one(SessionList)
        if session_id and sessions.selected != session_id:
            sessions.select(session_id)
        feed = self.query_one(RequestFeed)
        if feed.only_session is not None:
            feed.set_filter(only_session=self.steered_session() or None)
            self._feed_title()
        self._reselect = True  # the council room and the actor pane: in the next frame,
        self._schedule_frame()  # drawn now (in a frame: one drawing the room would race it)
        self._refresh_bindings_if_changed()

    @on(DataTable.RowHighlighted, "#sessions")
    def _session_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.selected = str(event.row_key.value)

    @on(DataTable.RowSelected, "#feed")
    def _feed_selected(self, event: DataTable.RowSelected) -> None:
        row = self.query_one(RequestFeed).rows_model.get(str(event.row_key.value))
        if row is not None:
            self.query_one("#detail", Static).update(row.detail)

    # --- steering --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Steering needs controls (live) and a session; decisions need a held briefing."""
        if action in STEERING:
            if self.controls is None:
                return False
            if action not in GLOBAL and not self.selected:
                return None
        if action in HELD:
            if action == "approve" and isinstance(self.focused, Input | RequestFeed):
                # enter submits the filter and explains a feed row there; a False check
                # lets the key through to the focused widget
                return False
            return self.controls is not None and self.held_request() is not None
        return True

    def _steer(self, act: Callable[[], Act], done: str) -> bool:
        try:
            pending = act()
        except SteeringError as exc:
            self.notify(str(exc), title="steering refused", severity="error")
            return False
        if pending is not None:  # over HTTP (attach): said once the proxy answers
            self.run_worker(self._steer_remote(pending, done), group="steer",
                            exit_on_error=False)
            return True
        self.notify(done, timeout=2)
        return True

    async def _steer_remote(self, pending: Awaitable[None], done: str) -> None:
        try:
            await pending
        except SteeringError as exc:
            self.notify(str(exc), title="steering refused", severity="error")
            return
        self.notify(done, timeout=2)

    @property
    def _controls(self) -> SteeringControls:
        assert self.controls is not None  # check_action guarantees it
        return self.controls

    def action_force_tier(self, tier: str) -> None:
        """Route the selected session's next request at `tier`."""
        session = self.steered_session()
        self._steer(lambda: self._controls.force_next_tier(session, tier),
                    f"{session}: next turn {tier}")

    def action_lock_tier(self, tier: str | None = None) -> None:
        """Lock the session at a tier (picker), or back to auto with ''."""
        session = self.steered_session()
        if tier == "":
            self._steer(lambda: self._controls.lock_tier(session, None), f"{session}: auto")
            return

        def chosen(choice: str | None) -> None:
            if choice:
                self._steer(lambda: self._controls.lock_tier(session, choice),
                            f"{session}: locked at {choice}")

        self.app.push_screen(PickerScreen(f"lock {session} at", [
            ("compact", "compact"), ("regular", "regular"), ("plan", "plan")]), chosen)

    def action_swap_actor(self) -> None:
        """Pick a configured upstream to act for the selected session."""
        session = self.steered_session()
        ids = list(dict.fromkeys([*self.info.actors, *sorted(self._controls.upstream_ids)]))
        known = {u.id: u for u in self.info.upstreams}
        unusable = frozenset(i for i in ids if i in known and known[i].key_missing)

        def label(upstream_id: str) -> str:
            if upstream_id in unusable:
                return f"{upstream_id}  (key missing: cannot act)"
            return known[upstream_id].label if upstream_id in known else upstream_id

        def chosen(choice: str | None) -> None:
            if not choice:
                return
            if choice in unusable:  # the picker does not offer it; refuse all the same
                self.notify(f"{choice} has no API key in the proxy's environment; "
                            f"{session} keeps its actor", title="swap refused",
                            severity="error")
                return
            self._steer(lambda: self._controls.swap_actor(session, choice),
                        f"{session}: actor {choice}")

        note = ("greyed out: no API key in the proxy's environment (it would fail over to "
                "the old actor)" if unusable else "")
        self.app.push_screen(PickerScreen(f"actor for {session}",
                                          [(i, label(i)) for i in ids], unusable, note),
                             chosen)

    def action_mute(self) -> None:
        """Pick an advisor to mute or unmute, for this session or for all."""
        session = self.steered_session()
        controls = self._controls
        steering = controls.sessions.get(session)
        muted_here = steering.muted if steering else set()
        options = []
        for advisor in self.info.advisors or tuple(sorted(controls.upstream_ids)):
            here = advisor in muted_here
            everywhere = advisor in controls.muted_globally
            options.append((f"session|{advisor}|{int(not here)}",
                            f"{'unmute' if here else 'mute'} {advisor} in this session"))
            options.append((f"global|{advisor}|{int(not everywhere)}",
                            f"{'unmute' if everywhere else 'mute'} {advisor} everywhere"))

        def chosen(choice: str | None) -> None:
            if not choice:
                return
            scope, advisor, mute = choice.split("|")
            where = session if scope == "session" else None
            self._steer(lambda: controls.mute_advisor(advisor, mute == "1", where),
                        f"{advisor} {'muted' if mute == '1' else 'unmuted'} "
                        f"{'in ' + session if where else 'everywhere'}")

        self.app.push_screen(PickerScreen("mute or unmute an advisor", options), chosen)

    def action_compose(self) -> None:
        """Compose the council: add, replace, judge, perspective (fusion_tui.tui.screens.
        compose), for the selected session or everywhere."""
        ids = sorted(self._controls.upstream_ids)
        advisors = list(self.info.advisors or ids)
        composer(self, self._controls, self.steered_session() or None, advisors, ids, self._steer)

    def action_council(self) -> None:
        """Councils on/off: for the selected session, or everywhere when none is selected."""
        controls = self._controls
        session = self.steered_session() or None
        on_now = controls.council_enabled(session or "", self.info.council)
        self._steer(lambda: controls.set_council(not on_now, session),
                    f"council {'off' if on_now else 'on'}"
                    f"{' for ' + session if session else ''}")

    def action_council_global(self) -> None:
        """Councils on/off everywhere (a session's own setting still wins for it)."""
        controls = self._controls
        on_now = (self.info.council if controls.council_globally is None
                  else controls.council_globally)
        self._steer(lambda: controls.set_council(not on_now),
                    f"council {'off' if on_now else 'on'} everywhere")

    def action_hold(self) -> None:
        """Hold-before-act: off → plan → always → off."""
        controls = self._controls
        modes = list(HoldMode)
        mode = modes[(modes.index(HoldMode(controls.hold_mode)) + 1) % len(modes)]
        self._steer(lambda: controls.set_hold(mode), f"hold {mode}")

    def action_approve(self) -> None:
        """Approve the held briefing as it is."""
        rid = self.held_request()
        if rid:
            self._steer(lambda: self._controls.decide_briefing(rid, "approve"),
                        f"{rid}: briefing approved")

    def action_skip(self) -> None:
        """The actor goes without the briefing."""
        rid = self.held_request()
        if rid:
            self._steer(lambda: self._controls.decide_briefing(rid, "skip"),
                        f"{rid}: briefing skipped")

    def action_edit(self) -> None:
        """Edit the held briefing, then approve the edit."""
        rid = self.held_request()
        if not rid:
            return
        sid = self.model.held.get(rid, "")
        turn = self.model.turn(sid, rid)
        text = turn.briefing if turn else self._controls.hold_desk.pending.get(rid, "")

        def edited(new_text: str | None) -> None:
            if new_text is not None:
                self._steer(lambda: self._controls.decide_briefing(rid, "edit", new_text),
                            f"{rid}: edited briefing approved")

        self.app.push_screen(EditBriefingScreen(rid, text), edited)

    def action_pin(self) -> None:
        """Unpin the session if pinned, else pin it to its current actor."""
        controls = self._controls
        session = self.steered_session()
        if controls.pins.get(session):
            self._steer(lambda: controls.unpin(session), f"{session}: unpinned")
            return
        view = self.model.sessions.get(session)
        actor = (view.actor if view and view.actor else
                 (self.info.actors or tuple(sorted(controls.upstream_ids)))[0])
        self._steer(lambda: controls.pin(session, actor), f"{session}: pinned to {actor}")

    def drop_target(self) -> str | None:
        """The feed row under the cursor if in flight, else the session's newest in flight."""
        inflight = self._controls.inflight
        feed = self.query_one(RequestFeed)
        if feed.row_count:
            key = feed.coordinate_to_cell_key(feed.cursor_coordinate).row_key.value
            if key in inflight:
                return str(key)
        mine = [rid for rid, f in inflight.items() if f.session_id == self.steered_session()]
        return mine[-1] if mine else None

    def action_drop(self) -> None:
        """Drop an in-flight request, after a confirmation."""
        rid = self.drop_target()
        if rid is None:
            self.notify("nothing in flight to drop", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._steer(lambda: self._controls.drop(rid), f"{rid}: dropped")

        self.app.push_screen(ConfirmScreen(f"drop {rid}? its client gets an error"),
                             answered)

    # --- view ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Show the filter box (and the feed, where it is a tab)."""
        self.action_toggle_view("requests")
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter(self, event: Input.Submitted) -> None:
        self.query_one(RequestFeed).set_filter(event.value)
        box = self.query_one("#filter", Input)
        box.display = bool(event.value)
        self.query_one(RequestFeed).focus()

    def action_feed_scope(self) -> None:
        """The feed follows all sessions, or only the selected one."""
        feed = self.query_one(RequestFeed)
        if feed.only_session is None and not self.selected:
            self.notify("no session selected: the feed stays on all sessions", title="feed",
                        severity="warning", timeout=3)
            return
        feed.set_filter(only_session=None if feed.only_session is not None
                        else self.steered_session())
        self._feed_title()
        self.notify("feed: all sessions" if feed.only_session is None
                    else f"feed: only session {feed.only_session} (f: all)", title="feed",
                    timeout=3)

    def _feed_title(self) -> None:
        feed = self.query_one(RequestFeed)
        feed.border_title = ("requests · all sessions" if feed.only_session is None
                             else f"requests · only {feed.only_session}")

    def action_sessions(self) -> None:
        """Recorded sessions (enter replays one on a fresh bus)."""
        opener = getattr(self.app, "open_sessions", None)
        if opener is not None:
            opener()

    def action_help(self) -> None:
        """Every key."""
        self.app.push_screen(HelpScreen(key_rows(self)))
