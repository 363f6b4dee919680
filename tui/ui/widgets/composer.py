"""The message composer: a multi-line TextArea where Enter sends.

Many terminals send the same bytes for Enter and Shift+Enter, so the newline key that always
works is Ctrl+J (a bare line feed); Shift+Enter and Alt+Enter also insert a newline where the
terminal delivers them distinctly.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter")


class Composer(TextArea):
    """Drafts a message; posts ``Composer.Submitted`` on Enter (the text stays until sent)."""

    BINDINGS = [
        # Enter and the newline keys are handled in _on_key (TextArea inserts text before
        # bindings run); these entries put them in the footer and the help screen.
        Binding("enter", "submit", "Send"),
        Binding("ctrl+j", "newline", "New line"),
        # ctrl+y is the app's copy key; keep redo reachable where the terminal allows.
        Binding("ctrl+shift+z", "redo", "Redo", show=False),
    ]

    class Submitted(Message):
        """The user asked to send ``text``."""

        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
                         placeholder="Message… (Enter to send, Ctrl+J for a new line)")

    async def _on_key(self, event: events.Key) -> None:
        if self.read_only:
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def set_draft(self, text: str) -> None:
        """Replace the draft and put the cursor at its end."""
        self.load_text(text)
        self.move_cursor(self.document.end)
