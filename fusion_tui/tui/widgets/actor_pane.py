"""The actor pane: who acts for the selected session, each tool call, the stop reason."""

from __future__ import annotations

from collections.abc import Hashable

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from fusion_tui.tui.room import TurnView


class ActorPane(Static):
    """The selected session's current turn, seen from the actor's side."""

    turn: reactive[TurnView | None] = reactive(None, always_update=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: Hashable = None

    def on_mount(self) -> None:
        """Title the border."""
        self.border_title = "actor"

    def show(self, turn: TurnView | None) -> None:
        """Show `turn`, redrawing only when something this pane shows changed (the turn is
        mutated in place while advisors stream, which this pane does not show)."""
        key: Hashable = None if turn is None else (
            id(turn), turn.request_id, turn.actor, turn.briefed, len(turn.tools),
            id(turn.tools[-1]) if turn.tools else 0, turn.error, turn.status,
            turn.stop_reason)
        if key != self._shown:
            self._shown = key
            self.turn = turn

    def render(self) -> Content:
        """Actor, briefing status, tool calls (newest last), stop reason."""
        turn = self.turn
        if turn is None:
            return Content.from_markup("[$text-muted]no turn yet[/]")
        briefed = ("" if turn.briefed is None
                   else " · briefed" if turn.briefed else " · [$warning]no briefing[/]")
        lines = [Content.from_markup(f"[b]$actor[/]{briefed}", actor=turn.actor or "…"),
                 Content.from_markup("[$text-muted]$rid[/]", rid=turn.request_id)]
        for call in turn.tools[-12:]:
            lines.append(Content.from_markup("[$accent]▸ $name[/] $summary",
                                             name=call.name, summary=call.summary))
        if turn.error:
            lines.append(Content.from_markup("[$error]✖ $e[/]", e=turn.error))
        if turn.finished:
            lines.append(Content.from_markup("stop: [b]$s[/] · status $st",
                                             s=turn.stop_reason or "-", st=str(turn.status)))
        elif not turn.tools:
            lines.append(Content.from_markup("[$text-muted]waiting…[/]"))
        return Content("\n").join(lines)
