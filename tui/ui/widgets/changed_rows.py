"""A view whose new content keeps its height repaints only the rows that differ.

A streaming reply's tail view is given its whole text again on every update: the finished
blocks it keeps (``tail_blocks``), the unfinished one, and the blank rows below them
(``stream_runway``). Textual then drops every line it drew of the view, draws them all
again, cuts each into the screen's pieces and sends them all to the terminal, although a
growing reply changes its last row or two. At 20 tok/s that repaint of ~20 rows was the
largest cost of a quiet stream (a census of the app's event loop in a pty: ~4 ms of each
update's ~10 ms, twice a second).

Here the view draws its new lines at once, compares them with the lines on screen and asks
for a repaint of the rows from the first that differs to the last; the rows around them
keep what Textual drew. Anything that may change more than the content (a new size, a
pending repaint, a new style) goes Textual's own way. ``_render_cache``,
``_render_content``, ``_dirty_regions`` and ``_set_dirty`` are private:
``tests/test_textual_private_api.py`` checks them in the pinned Textual range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from textual.geometry import Region
from textual.strip import Strip

__all__ = ["RepaintsChangedRows", "changed_span"]


def changed_span(before: Sequence[Strip], after: Sequence[Strip]) -> tuple[int, int] | None:
    """The first row that differs and the row after the last that does (rows past the end
    of either list differ); None when both are the same."""
    rows = max(len(before), len(after))
    first = 0
    while first < rows and first < len(before) and first < len(after) \
            and before[first] == after[first]:
        first += 1
    if first == rows:
        return None
    end = rows
    while end > first and end <= len(before) and end <= len(after) \
            and before[end - 1] == after[end - 1]:
        end -= 1
    return first, end


class RepaintsChangedRows:
    """Mixed in before a Textual widget class (a plain class: see ``OneLayoutPass``). The
    widget sets its new content inside :meth:`changed_rows_only` when it knows its height
    stays the same."""

    _rows_only = False

    @contextmanager
    def changed_rows_only(self) -> Iterator[None]:
        """The refresh asked for inside repaints only the rows that changed."""
        self._rows_only = True
        try:
            yield
        finally:
            self._rows_only = False

    def _set_dirty(self: Any, *regions: Region) -> None:
        if regions or not self._rows_only or not self._mark_changed_rows():
            super()._set_dirty(*regions)  # type: ignore[misc]

    def _mark_changed_rows(self: Any) -> bool:
        """Draw the new content now and mark the rows that differ; False when the lines on
        screen are not known (never drawn at this size, or a repaint is pending)."""
        size = self.size
        drawn = self._render_cache
        if not (size and self.is_mounted and drawn.size == size) or self._dirty_regions:
            return False
        before = drawn.lines
        self._render_content()  # the new lines, kept where the paint will read them
        span = changed_span(before, self._render_cache.lines)
        if span is not None:
            first, end = span
            super()._set_dirty(Region(0, first, size.width, end - first))  # type: ignore[misc]
            # Marking a region asks for the content to be drawn again; it was just drawn.
            self._dirty_regions.clear()
        return True
