"""Text fields that never write a control character to the terminal.

Textual's Input and TextArea draw the text they hold as it is: a chat title, a system prompt,
an earlier message recalled into the composer or a message being edited that holds
``\\x1b[31m`` recoloured the terminal from inside the field, and a right-to-left override
reordered it. The fields must keep that text unchanged (it is what gets saved, sent or
copied), so the drawing is what changes: the control characters are left out of each drawn
line. Textual measures them as zero cells wide, so leaving them out moves nothing and the
cursor stays where Textual puts it (showing them as ``␛`` would take a cell each and shift
it). What they introduced (``[31m``) stays visible as plain text.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Input, TextArea

from tui.core.literal import CONTROL_CHARACTERS

__all__ = ["SafeInput", "SafeTextArea", "without_controls"]


def without_controls(strip: Strip) -> Strip:
    """``strip`` without control characters in its text (itself when it has none)."""
    search = CONTROL_CHARACTERS.search
    if not any(search(segment.text) for segment in strip if not segment.control):
        return strip
    return Strip([segment if segment.control
                  else Segment(CONTROL_CHARACTERS.sub("", segment.text), segment.style)
                  for segment in strip])


class SafeInput(Input):
    """An Input that does not draw control characters (see the module)."""

    def render_line(self, y: int) -> Strip:
        return without_controls(super().render_line(y))


class SafeTextArea(TextArea):
    """A TextArea that does not draw control characters (see the module)."""

    def render_line(self, y: int) -> Strip:
        return without_controls(super().render_line(y))
