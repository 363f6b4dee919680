"""The messages' scrollbar, drawn from the few kinds of row it has.

A vertical scrollbar's rows are of a handful of kinds: the track above the thumb, the
thumb, its two ends (eighth-block glyphs), the track below. While a reply streams, the
messages grow and follow their end, so the bar's size and position change with each layout
and Textual draws all its rows again, each through the widget's styles: at 200 tok/s
(a pty census of a 4,000-token reply) ~1,400 rows drawn, ~4% of the app's CPU, for a bar
whose rows are, most frames, the ones it already showed.

Here each row is worked out as Textual's own renderer does (``ScrollBarRender.render_bar``,
public), and a row of a kind already drawn, in the same size, styles and terminal filters,
is that drawing again; a new kind is drawn by Textual's path, once. Anything else (a
horizontal bar, a screen that hides scrollbars, a border or padding) is drawn as Textual
does.
"""

from __future__ import annotations

from typing import Any

from rich.color import Color
from rich.segment import Segment
from textual.geometry import Region, Spacing
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

__all__ = ["RowKindsScrollBar"]

_NO_GUTTER = Spacing(0, 0, 0, 0)


class RowKindsScrollBar(ScrollBar):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawn: dict[Any, Strip] = {}
        """A row's drawing by its segment, for the context in ``_drawn_for``."""
        self._drawn_for: tuple[Any, ...] | None = None
        self.rows_drawn = 0
        """Rows drawn through Textual's path (tests)."""

    def notify_style_update(self) -> None:
        self._drawn.clear()
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        rows = self._rows()
        if rows is None or self.styles.gutter != _NO_GUTTER:
            self.rows_drawn += crop.height
            return super().render_lines(crop)
        context = (self.size, crop.x, crop.width, self.background_colors,
                   tuple(id(line_filter) for line_filter in self.get_line_filters()),
                   id(self.app.ansi_theme), self.app.native_ansi_color, self.opacity)
        if context != self._drawn_for:
            self._drawn.clear()
            self._drawn_for = context
        drawn = self._drawn
        strips: list[Strip] = []
        for y in crop.line_range:
            row = rows[y] if y < len(rows) else None
            strip = drawn.get(row) if row is not None else None
            if strip is None:
                self.rows_drawn += 1
                strip = super().render_lines(Region(crop.x, y, crop.width, 1))[0]
                if row is not None:
                    drawn[row] = strip
            strips.append(strip)
        return strips

    def _rows(self) -> list[Segment] | None:
        """Each row's segment, as ``ScrollBarRender`` draws the bar; None when not a
        vertical bar drawn that way."""
        if not self.vertical or not self.is_mounted:
            return None
        renderable = self.render()
        if not isinstance(renderable, ScrollBarRender):
            return None
        width, height = self.size
        style = renderable.style
        if not hasattr(style, "bgcolor"):
            return None  # a style by name: let Rich's console resolve it
        bar = renderable.render_bar(
            size=height, window_size=renderable.window_size,
            virtual_size=renderable.virtual_size, position=renderable.position,
            vertical=True, thickness=width,
            back_color=style.bgcolor or Color.parse("#555555"),
            bar_color=style.color or Color.parse("bright_magenta"),
        )
        return list(bar.segments)
