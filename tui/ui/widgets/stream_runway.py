"""Blank rows kept below a streaming reply's text, so that its growth does not move the screen.

The message pane keeps its newest line in view, so a reply that grows by one line moves
everything above it up a line, and Textual repaints the whole conversation for that one new
line: every widget overlapping the change is drawn again, whole, and each container that
changed size draws all its visible lines anew. At 20 tok/s (a frame or two a second, most of
them one line more) those frames were most of the app's CPU.

While a reply streams, its widget says it is a few rows taller than its text: the text grows
into those blank rows and only the view that grew is painted again. When they are used up,
it takes a step more at once, so the conversation moves once every few lines, by a few
lines. (At 200 tok/s and faster a frame adds several lines, so most frames still move it.)
The rows left go once the reply is stored (the block's ``finish``), not with its last words:
closing them moves the conversation (down, by the rows left), a repaint of everything shown
that would otherwise come between the server's last byte and the last words on screen, or
right after them, while the terminal is still being sent that frame.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Size

__all__ = ["StreamRunway"]


class StreamRunway:
    """Mixed into StreamingMarkdown before its Textual base (a plain class: see
    ``OneLayoutPass``). Open from the start, until :meth:`close_runway`; the host says whether
    it streams at all (``streams``)."""

    RUNWAY_SHARE = 10
    """Rows are kept in steps of one for every this many rows of the screen (4 in a 40-row
    terminal)."""
    MIN_RUNWAY = 3

    _runway_closed = False

    @property
    def streams(self) -> bool:
        raise NotImplementedError

    @property
    def runway_open(self) -> bool:
        return self.streams and not self._runway_closed

    def open_runway(self) -> None:
        """Streaming again (a stored reply continued)."""
        self._runway_closed = False

    def runway_rows(self, viewport: Size) -> int:
        return max(self.MIN_RUNWAY, viewport.height // self.RUNWAY_SHARE)

    def runway_filler(self) -> Any:
        """The view that fills the blank rows (its ``min_rows``): the text's last view, if
        it is one that grows as the reply streams (it may sit inside a view of its own,
        such as a code block's column); None."""
        return None

    def get_content_height(self: Any, container: Size, viewport: Size, width: int) -> int:
        filler = self.runway_filler()
        if filler is not None and filler.fill(0):
            # Measured at its text's own height. The arrangements Textual keeps still have
            # the filled height.
            self._forget_measures(filler)
        height: int = super().get_content_height(container, viewport, width)
        if not self.runway_open:
            return height
        # The next whole step above the text: 1 to ``step`` blank rows, and a height that
        # depends on the text's alone (not on which frames showed it: snapshots stay put).
        step = self.runway_rows(viewport)
        total = (height // step + 1) * step
        if filler is not None:
            # The tail's view takes all but the last blank row: its text grows into them
            # with a repaint of that view alone, not a layout of the screen (at 20 tok/s
            # most updates add a row or part of one).
            if filler.fill(filler.text_rows + total - height - 1):
                self._forget_measures(filler)
        return total

    def _forget_measures(self: Any, filler: Any) -> None:
        """Drop what Textual measured with the filler's old height: the arrangements of
        this widget and of the views between (a code block's column), and those views'
        box models (private ``_clear_arrangement_cache`` and ``_box_model_cache``:
        tests/test_textual_private_api.py)."""
        self._clear_arrangement_cache()
        node = filler.parent
        while node is not None and node is not self:
            node._clear_arrangement_cache()
            node._box_model_cache.clear()
            node = node.parent

    def close_runway(self: Any) -> None:
        """The reply ended: lay out at the text's own height."""
        if not self._runway_closed:
            self._runway_closed = True
            filler = self.runway_filler()
            if filler is not None:
                filler.fill(0)
            if self.is_attached:
                self.refresh(layout=True)
