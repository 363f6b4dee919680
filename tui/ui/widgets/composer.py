"""The message composer: a multi-line TextArea where Enter sends.

Terminals send the same byte (CR) for Enter and Shift+Enter unless they speak an extended
keyboard protocol, so the newline keys are, from most to least portable:

* Ctrl+J: a bare line feed, distinct everywhere (tmux, screen, SSH, every emulator);
* Alt+Enter: ESC then CR in every xterm-style terminal, tmux included. Textual 8 does not
  know that pair and, after its escape timeout, reports a plain Enter, which would send a
  half-written message; :func:`register_alt_enter` teaches its parser the pair;
* Shift+Enter: only where the terminal reports it: the Kitty keyboard protocol
  (``CSI 13;2u``: kitty, WezTerm, foot, Ghostty, iTerm2) or xterm's modifyOtherKeys
  (``CSI 27;2;13~``: xterm, tmux with ``extended-keys``).
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})
ALT_ENTER_SEQUENCE = "\x1b\r"


class _KeyName(str):
    """A key name where Textual's sequence table expects a ``Keys`` member (it reads .value)."""

    @property
    def value(self) -> str:
        return str(self)


def register_alt_enter() -> bool:
    """Make ESC CR arrive as ``alt+enter`` instead of ``enter``. True if it is registered.

    Uses Textual's private sequence table (``textual._ansi_sequences``); the tested Textual
    range is pinned in pyproject.toml and tests/terminal/test_key_sequences.py fails if it moves.
    """
    try:
        from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
    except ImportError:
        return False
    if not isinstance(ANSI_SEQUENCES_KEYS, dict):
        return False
    ANSI_SEQUENCES_KEYS.setdefault(ALT_ENTER_SEQUENCE, (_KeyName("alt+enter"),))  # type: ignore[arg-type]
    return True


register_alt_enter()


def key_name(event: events.Key) -> str:
    """The key's name, with xterm modifyOtherKeys' ``shift+\\r`` read as ``shift+enter``."""
    return event.key.replace("\r", "enter")


class Composer(TextArea):
    """Drafts a message; posts ``Composer.Submitted`` on Enter (the text stays until sent)."""

    BINDINGS = [
        # Enter and the newline keys are handled in _on_key (TextArea inserts text before
        # bindings run); these entries put them in the footer and the help screen.
        Binding("enter", "submit", "Send", id="composer.send"),
        Binding("ctrl+j,alt+enter,shift+enter", "newline", "New line", id="composer.newline"),
        # ctrl+y is the app's copy key; keep redo reachable where the terminal allows.
        Binding("ctrl+shift+z", "redo", "Redo", show=False, id="composer.redo"),
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
                         placeholder="Message… (Enter to send, Ctrl+J or Alt+Enter for a new "
                                     "line)")

    async def _on_key(self, event: events.Key) -> None:
        if self.read_only:
            return
        key = key_name(event)
        if key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif key in NEWLINE_KEYS:
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
        if text == self.text:
            # The same text (mostly: empty to empty when switching chats): no reload, so no
            # re-layout of the screen; the undo history still starts afresh.
            self.history.clear()
        else:
            self.load_text(text)
        self.move_cursor(self.document.end)
