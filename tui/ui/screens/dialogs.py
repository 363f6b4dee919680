"""Small modal dialogs: rename a conversation, confirm a deletion."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from tui.ui.screens.dialog_base import Dialog
from textual.widgets import Button, Input, Label

from tui.ui import keys
from tui.ui.widgets.literal import literal
from tui.ui.widgets.safe_fields import SafeInput


class RenameScreen(Dialog[str | None]):
    """Edit a title; dismisses with the new title, or None when cancelled."""

    BINDINGS = keys.RENAME

    def __init__(self, title: str, *, heading: str = "Rename conversation") -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._heading = heading

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self._heading), classes="dialog-title")
            yield SafeInput(self._title, placeholder="Title", id="rename-input")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Rename", variant="primary", id="rename-ok")
                yield Button("Cancel", id="rename-cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "rename-ok":
            self.dismiss(self.query_one(Input).value.strip())
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Dialog[bool]):
    """Ask a yes/no question; y/Enter on the default button confirms, n/Escape cancels."""

    BINDINGS = keys.CONFIRM

    def __init__(self, question: str, *, confirm_label: str = "Delete") -> None:
        super().__init__(classes="dialog-screen")
        self._question = question
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self._question), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm_label, variant="error", id="confirm-yes")
                yield Button("Cancel", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
