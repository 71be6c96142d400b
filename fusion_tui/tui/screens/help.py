"""The help screen: every key, generated from the bindings in force (with remaps)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label

PLAIN_WORDS = {
    "help_quit": "say how to quit (ctrl+q quits from anywhere, q where no text box has focus)",
    "command_palette": "command palette",
}
"""What Textual's own bindings without a description do, in words."""


def describe(ident: str, description: str) -> str:
    """A binding's description for people: its own, else plain words, never a raw id."""
    if description and description != ident:
        return description
    return PLAIN_WORDS.get(ident, ident.rsplit(".", 1)[-1].replace("_", " "))


def key_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """(binding id, keys, description) for the screen's and the app's bindings, as remapped
    by the app's keymap, in declaration order."""
    app = screen.app
    rows: dict[str, tuple[list[str], str]] = {}
    for node in (screen, app):
        bindings = node._bindings.copy()
        if app._keymap:
            bindings.apply_keymap(app._keymap)
        for key, bound in bindings.key_to_bindings.items():
            for binding in bound:
                ident = binding.id or binding.action
                keys, _ = rows.setdefault(ident, ([], describe(ident, binding.description)))
                shown = app.get_key_display(Binding(key, binding.action))
                if shown not in keys:
                    keys.append(shown)
    return [(ident, ", ".join(keys), what) for ident, (keys, what) in rows.items()]


class HelpScreen(ModalScreen[None]):
    """A table of keys; escape, q or ? closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help_close")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__(classes="modal")
        self.rows = rows

    def compose(self) -> ComposeResult:
        """The key table."""
        with Vertical(classes="dialog wide"):
            yield Label("keys (remap them in config.yaml under keymap: {id: keys})",
                        classes="dialog-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one(DataTable)
        table.add_columns("id", "keys", "what it does")
        for row in self.rows:
            table.add_row(*row)

    def action_close(self) -> None:
        """Back."""
        self.dismiss(None)

