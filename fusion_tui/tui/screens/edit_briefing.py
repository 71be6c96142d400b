"""Edit a held briefing in a TextArea, then approve it (ctrl+s) or cancel (escape)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, TextArea


class EditBriefingScreen(ModalScreen[str | None]):
    """Dismisses with the edited text, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "approve", "Approve edited", id="edit_approve", priority=True),
        Binding("escape", "cancel", "Cancel", id="edit_cancel"),
    ]

    def __init__(self, request_id: str, text: str) -> None:
        super().__init__(classes="modal")
        self.request_id = request_id
        self.text = text

    def compose(self) -> ComposeResult:
        """Title, editor, footer."""
        with Vertical(classes="dialog wide"):
            yield Label(f"edit the briefing for {self.request_id} · ctrl+s approves",
                        classes="dialog-title")
            yield TextArea(self.text, id="briefing-editor", soft_wrap=True)
        yield Footer()

    def action_approve(self) -> None:
        """Approve what is in the editor."""
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        """Leave the briefing held."""
        self.dismiss(None)
