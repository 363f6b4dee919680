"""Edit an earlier message of yours before it is sent again, in a modal TextArea.

Sending makes a new branch from that point (the old question and its answers stay, one
‹ › away); cancelling changes nothing.
"""

from __future__ import annotations

from tui.ui import keys
from tui.ui.screens.text_dialog import TextDialog


class EditMessageScreen(TextDialog):
    """Dismisses with the edited text, or None when cancelled (or left empty)."""

    BINDINGS = keys.EDIT_MESSAGE
    HEADING = "Edit and resend (a new branch; the original stays)"
    CONFIRM_LABEL = "Send (F2)"
    AREA_ID, CONFIRM_ID, CANCEL_ID = "edit-message-input", "edit-send", "edit-cancel"

    def result(self, text: str) -> str | None:
        return text if text.strip() else None

    def action_send(self) -> None:
        self.confirm()
