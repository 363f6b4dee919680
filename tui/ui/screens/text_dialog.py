"""A modal TextArea with a title, a confirm button (F2) and Cancel (Esc): the shape shared
by the system-prompt editor and the edit-and-resend dialog."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from tui.ui.screens.dialog_base import Dialog
from textual.widgets import Button, Label, TextArea

from tui.ui.widgets.safe_fields import SafeTextArea


class TextDialog(Dialog[str | None]):
    """Dismisses with :meth:`result` of the text when confirmed, None when cancelled.
    Subclasses name the title, the button and the ids (tests and styles use them)."""

    HEADING = ""
    CONFIRM_LABEL = ""
    AREA_ID = ""
    CONFIRM_ID = ""
    CANCEL_ID = ""

    def __init__(self, text: str) -> None:
        super().__init__(classes="dialog-screen")
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(self.HEADING, classes="dialog-title")
            yield SafeTextArea(self._text, id=self.AREA_ID, soft_wrap=True,
                               tab_behavior="focus")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.CONFIRM_LABEL, variant="primary", id=self.CONFIRM_ID)
                yield Button("Cancel", id=self.CANCEL_ID)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == self.CONFIRM_ID:
            self.confirm()
        else:
            self.dismiss(None)

    def result(self, text: str) -> str | None:
        """What a confirmed ``text`` dismisses with."""
        return text

    def confirm(self) -> None:
        self.dismiss(self.result(self.query_one(TextArea).text))

    def action_cancel(self) -> None:
        self.dismiss(None)
