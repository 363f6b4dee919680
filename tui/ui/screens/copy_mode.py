"""Copy mode: the conversation on screen as plain text with a keyboard cursor.

Entered from the messages pane (``v``) at the focused message. The text is each message's
source under a "You" / "Assistant" line, in a read-only TextArea, so every motion and
selection TextArea knows works (arrows, Shift+arrows, Home/End, PgUp/PgDn, the mouse), plus
vi's: h/j/k/l, w/b, 0/$, g/G, and v to start or drop a selection that the motions then
extend. y (or Enter) copies the selection, or the cursor's line if nothing is selected.

The TextArea shows the text with its control characters made visible (``printable``: ESC as
``␛``; a TextArea writes what it holds to the terminal as is, so a reply's ``\x1b[31m``
recoloured it and a bidi override reordered the screen), and a copy takes the same span of
the text as stored: ``printable`` swaps one character for one and keeps every newline, so a
line and column of one are the line and column of the other.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from tui.core.literal import printable
from tui.ui import keys
from tui.ui.widgets.safe_fields import SafeTextArea

Location = tuple[int, int]

HINT = ("Copy mode: h/j/k/l w/b 0/$ g/G or arrows move · v or Shift+arrows select · "
        "y copies · Esc leaves")


class CopyArea(SafeTextArea):
    """A read-only TextArea with vi motions; ``v`` toggles a selection the motions extend."""

    BINDINGS = keys.COPY_MODE_MOTIONS

    selecting = False

    def __init__(self, source: str, **kwargs: object) -> None:
        super().__init__(printable(source), **kwargs)  # type: ignore[arg-type]
        self.source_lines = source.split("\n")

    def action_vi(self, motion: str) -> None:
        getattr(self, f"action_cursor_{motion}")(select=self.selecting)

    def action_vi_edge(self, end: bool) -> None:
        target = self.document.end if end else (0, 0)
        self.move_cursor(target, select=self.selecting)

    def action_toggle_selecting(self) -> None:
        self.selecting = not self.selecting
        if not self.selecting:
            self.move_cursor(self.cursor_location)  # drop the selection

    def text_to_copy(self) -> str:
        """The stored text under the selection, or the cursor's line if nothing is selected."""
        start, end = self.selection
        if start == end:
            return self.source_lines[self.cursor_location[0]]
        return source_range(self.source_lines, start, end)


def source_range(lines: list[str], start: Location, end: Location) -> str:
    """The text from ``start`` to ``end`` (either order) in ``lines``, joined by newlines."""
    (first_row, first_column), (last_row, last_column) = sorted((start, end))
    if first_row == last_row:
        return lines[first_row][first_column:last_column]
    return "\n".join([lines[first_row][first_column:], *lines[first_row + 1:last_row],
                      lines[last_row][:last_column]])


class CopyModeScreen(ModalScreen[None]):
    BINDINGS = keys.COPY_MODE

    def __init__(self, text: str, line: int = 0) -> None:
        super().__init__(classes="copy-mode-screen")
        self._text = text
        self._line = line

    def compose(self) -> ComposeResult:
        with Vertical(id="copy-mode"):
            yield Label(HINT, id="copy-mode-hint")
            yield CopyArea(self._text, read_only=True, soft_wrap=True, id="copy-area",
                           show_line_numbers=False)

    def on_mount(self) -> None:
        area = self.query_one(CopyArea)
        area.focus()
        area.move_cursor((self._line, 0), center=True)

    def action_copy(self) -> None:
        area = self.query_one(CopyArea)
        text = area.text_to_copy()
        if text:
            self.app.copy_to_clipboard(text)
        else:
            self.notify("Nothing to copy.", severity="warning")
        self.dismiss(None)

    def action_leave(self) -> None:
        self.dismiss(None)
