"""A widget that only ever grows at its end keeps the lines Textual already drew of it.

Textual keeps each widget's drawn lines (its styles cache) until the widget asks to be
painted again or changes size; then it drops them all and draws every line shown anew. A
streaming reply's page of finished blocks gets a block at its end at most updates, so at
200 tok/s each layout drew the page's whole visible part again (a pty census of a
4,000-token reply: ~1,000 of its ~1,200 lines drawn were a page's, unchanged), for the few
rows the new block added below them.

A line already drawn stays right while the widget keeps its width and styles and its
content changes only below that line; anything else (a block built again, a new width or
theme, a selection) drops them all, as before. The styles cache's ``_cache`` and
``_dirty_lines`` are private: ``tests/test_textual_private_api.py`` checks them.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region, Size

__all__ = ["KeepsRowsAbove"]


class KeepsRowsAbove:
    """Mixed in before a Textual widget class (a plain class: see ``OneLayoutPass``). The
    widget calls :meth:`appended` when its content grew at its end, before it refreshes."""

    _appended = False
    """Content added at the end since the last layout (and nothing else changed since)."""
    _keeping = False

    def appended(self: Any) -> None:
        """The content grew below its last row, and nothing above it changed: the next
        refresh and the size change of the layout after it keep the lines drawn above."""
        self._appended = True
        self._keeping = True
        try:
            self.refresh(layout=True)
        finally:
            self._keeping = False

    def changed(self: Any) -> None:
        """Anything other than an append (a row above the end may differ): draw it all."""
        self._appended = False
        self.refresh(layout=True)

    def _size_updated(self: Any, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        keep = self._appended and size.width == self.outer_size.width
        self._appended = False
        self._keeping = keep
        try:
            return super()._size_updated(size, virtual_size, container_size,  # type: ignore[misc]
                                         layout)
        finally:
            self._keeping = False

    def _set_dirty(self: Any, *regions: Region) -> None:
        if regions or not self._keeping:
            if not regions:
                self._appended = False  # a full repaint from elsewhere: nothing to keep
            super()._set_dirty(*regions)  # type: ignore[misc]
            return
        cache = self._styles_cache
        # Only lines of the current height can have been drawn, and an append changes none
        # of them (an auto height is the content's; the cache's lines count the whole height).
        rows = self.outer_size.height
        kept = {y: strip for y, strip in cache._cache.items() if y < rows}
        super()._set_dirty()  # type: ignore[misc]
        cache._cache.update(kept)
        cache._dirty_lines.difference_update(kept)
