"""A message's block is arranged by its width alone, once per layout, not twice.

Textual arranges a container of auto height twice in each layout of it: once to measure its
height (``Layout.get_content_height`` arranges it at the height of its container) and once
to place it at the height found. It keeps arrangements by their whole size, so the second
is done anew, and with it the measuring of its children: for a streaming reply's block, the
reply's pages and tail measured again (a pty census at 200 tok/s: ~2% of the app's CPU).

Where the children go depends only on the width when the block stacks them top down and
each takes a height of its own (auto or a number of rows): no docking, no height in
fractions or percent, nothing aligned to the bottom. Textual's own cache is left alone;
this keeps the last arrangement for a width, and forgets it whenever Textual forgets its
own (``_clear_arrangement_cache``, private: tests/test_textual_private_api.py).
"""

from __future__ import annotations

from typing import Any

from textual.css.scalar import Unit
from textual.geometry import Size

__all__ = ["ArrangedByWidth", "placed_by_width"]

_OWN_HEIGHT = {Unit.AUTO, Unit.CELLS}


def placed_by_width(widget: Any) -> bool:
    """Whether ``widget``'s arrangement depends on its width alone (see the module)."""
    if widget.layout.name != "vertical" or widget.styles.align_vertical != "top":
        return False
    for child in widget.displayed_children:
        child_styles = child.styles
        if child_styles.is_docked or child_styles.overlay == "screen" or \
                child_styles.position != "relative":
            return False
        height = child_styles.height
        if height is not None and height.unit not in _OWN_HEIGHT:
            return False
        for bound in (child_styles.min_height, child_styles.max_height):
            if bound is not None and bound.unit != Unit.CELLS:
                return False
    return True


class ArrangedByWidth:
    """Mixed in before a Textual container class (a plain class: see ``OneLayoutPass``)."""

    _by_width: tuple[tuple[int, int, bool], Any] | None = None

    def arrange(self: Any, size: Size, optimal: bool = False) -> Any:
        key = (size.width, self._nodes._updates, optimal)
        kept = self._by_width
        if kept is not None and kept[0] == key:
            return kept[1]
        arrangement = super().arrange(size, optimal)  # type: ignore[misc]
        self._by_width = (key, arrangement) if placed_by_width(self) else None
        return arrangement

    def _clear_arrangement_cache(self: Any) -> None:
        self._by_width = None
        super()._clear_arrangement_cache()  # type: ignore[misc]
