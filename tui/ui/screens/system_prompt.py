"""Edit the conversation's system prompt in a modal TextArea."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea

from tui.ui import keys


class SystemPromptScreen(ModalScreen[str | None]):
    """Dismisses with the new prompt ("" clears it), or None when cancelled."""

    BINDINGS = keys.SYSTEM_PROMPT

    def __init__(self, prompt: str) -> None:
        super().__init__(classes="dialog-screen")
        self._prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label("System prompt (sent first in every request of this chat)",
                        classes="dialog-title")
            yield TextArea(self._prompt, id="system-prompt-input", soft_wrap=True,
                           tab_behavior="focus")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (F2)", variant="primary", id="prompt-save")
                yield Button("Cancel", id="prompt-cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "prompt-save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
