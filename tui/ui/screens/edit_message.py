"""Edit an earlier message of yours before it is sent again, in a modal TextArea.

Sending makes a new branch from that point (the old question and its answers stay, one
‹ › away); cancelling changes nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea

from tui.ui import keys


class EditMessageScreen(ModalScreen[str | None]):
    """Dismisses with the edited text, or None when cancelled (or left empty)."""

    BINDINGS = keys.EDIT_MESSAGE

    def __init__(self, text: str) -> None:
        super().__init__(classes="dialog-screen")
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label("Edit and resend (a new branch; the original stays)",
                        classes="dialog-title")
            yield TextArea(self._text, id="edit-message-input", soft_wrap=True,
                           tab_behavior="focus")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (F2)", variant="primary", id="edit-send")
                yield Button("Cancel", id="edit-cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "edit-send":
            self.action_send()
        else:
            self.dismiss(None)

    def action_send(self) -> None:
        text = self.query_one(TextArea).text
        self.dismiss(text if text.strip() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
