"""Edit the conversation's system prompt in a modal TextArea."""

from __future__ import annotations

from tui.ui import keys
from tui.ui.screens.text_dialog import TextDialog


class SystemPromptScreen(TextDialog):
    """Dismisses with the new prompt ("" clears it), or None when cancelled."""

    BINDINGS = keys.SYSTEM_PROMPT
    HEADING = "System prompt (sent first in every request of this chat)"
    CONFIRM_LABEL = "Save (F2)"
    AREA_ID, CONFIRM_ID, CANCEL_ID = "system-prompt-input", "prompt-save", "prompt-cancel"

    def result(self, text: str) -> str | None:
        return text.strip()

    def action_save(self) -> None:
        self.confirm()
