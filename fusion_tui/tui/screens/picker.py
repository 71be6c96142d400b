"""A small modal list: pick one option (escape: none)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class PickerScreen(ModalScreen[str | None]):
    """Dismisses with the chosen option's id, or None on escape."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="picker_cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]],
                 disabled: frozenset[str] = frozenset(), note: str = "") -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.options = options
        self.disabled_ids = disabled
        """Option ids shown but not selectable (the label says why)."""
        self.note = note

    def compose(self) -> ComposeResult:
        """Title and options."""
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*[Option(label, id=oid, disabled=oid in self.disabled_ids)
                               for oid, label in self.options], id="picker")
            if self.note:
                yield Label(self.note, classes="dialog-note")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Done."""
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        """Cancel."""
        self.dismiss(None)
