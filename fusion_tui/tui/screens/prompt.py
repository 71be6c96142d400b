"""A one-line prompt (jump to request N)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PromptScreen(ModalScreen[str | None]):
    """Dismisses with the typed text on enter, None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt_cancel")]

    def __init__(self, question: str, placeholder: str = "") -> None:
        super().__init__(classes="modal")
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        """Question and input."""
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            yield Input(placeholder=self.placeholder, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Done."""
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Nothing."""
        self.dismiss(None)
