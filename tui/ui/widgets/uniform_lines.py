"""Containers that draw the same line on every row draw it once.

A message's block in the pane is a container with a border on its left, padding and a
background, and no text of its own: each of its rows is the same line. Textual draws them
one by one, and draws them all again whenever the block's height changes, which a streaming
reply's block does on most updates: counted in a pty, a 4,000-token reply at 200 tok/s drew
~1,400 block rows (84 ms, as much as the pane's text) to show one more line each time.
Here one row is drawn and shown on every row the screen asks for.

Only while nothing makes the rows differ: a top or bottom border or outline, a border
title, or top or bottom padding (its rows look the same, but come in other pieces). Then
(and for one row) it is Textual's own drawing.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.strip import Strip

__all__ = ["UniformLines", "rows_are_uniform"]


def rows_are_uniform(widget: Any) -> bool:
    """Whether every row of ``widget`` (a container drawing no content) is the same line."""
    styles = widget.styles
    padding = styles.padding
    return not (padding.top or padding.bottom  # drawn as one piece, not in three
                or styles.border_top[0] not in ("", "none", "hidden")
                or styles.border_bottom[0] not in ("", "none", "hidden")
                or styles.outline_top[0] not in ("", "none", "hidden")
                or styles.outline_bottom[0] not in ("", "none", "hidden")
                or widget.border_title or widget.border_subtitle)


class UniformLines:
    """Mixed in before a Textual container class (a plain class: see ``OneLayoutPass``)."""

    def render_lines(self: Any, crop: Region) -> list[Strip]:
        if crop.height <= 1 or not rows_are_uniform(self):
            return super().render_lines(crop)  # type: ignore[misc, no-any-return]
        line = super().render_lines(Region(crop.x, crop.y, crop.width, 1))  # type: ignore[misc]
        return line * crop.height  # type: ignore[no-any-return]
