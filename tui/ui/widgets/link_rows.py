"""Links styled once per row drawn, not by rebuilding every row on every redraw.

Textual styles a widget's links (the ``link-*`` CSS) each time it draws the widget's
content: every row is rebuilt, piece by piece, into a new line, whether it has a link or
not. A streaming reply's page of finished blocks and its tail are drawn again on most
updates, and that was two thirds of drawing them (a 60-row page: 2.2 of 3.3 ms). The rows
a page draws are the same objects from one redraw to the next (each block's rows are
kept), so here each row is looked at once: a row without a link is shown as it is, a row
with one gets the styling Textual gives it, and both are remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["LinkRows", "draw_with_links_styled"]


def _is_link(style: Style | None) -> bool:
    """A piece with a click action (Rich gives a style with meta a link id: checked first,
    reading the meta costs more)."""
    return style is not None and bool(style.link_id) and "@click" in style.meta


def _has_a_link(strip: Strip) -> bool:
    return any(_is_link(style) for _, style, _ in strip)


def _with_links_styled(strip: Strip, link_style: Style) -> Strip:
    """As Textual's link styling: ``link_style`` added to the pieces that are links."""
    return Strip([
        Segment(text, style + link_style if _is_link(style) else style, control)
        for text, style, control in strip
    ], strip.cell_length)


class LinkRows:
    """The rows one widget drew, each with its links styled (or itself, without one)."""

    def __init__(self) -> None:
        self._style: Style | None = None
        self._rows: dict[int, tuple[Strip, Strip]] = {}

    def style(self, lines: list[Strip], link_style: Style) -> None:
        """``lines`` with their links styled, in place."""
        rows = self._rows
        if link_style != self._style or len(rows) > 4 * len(lines) + 64:
            rows.clear()  # another theme, or rows no longer drawn piling up
            self._style = link_style
        for index, strip in enumerate(lines):
            known = rows.get(id(strip))
            if known is None or known[0] is not strip:
                styled = _with_links_styled(strip, link_style) if _has_a_link(strip) else strip
                known = rows[id(strip)] = (strip, styled)
            lines[index] = known[1]


def draw_with_links_styled(widget: Widget, links: LinkRows, draw: Callable[[], Any]) -> None:
    """Run ``draw`` (Textual's ``_render_content``) with Textual's link styling off, then
    style the links of what it drew with ``links``. While the user selects text, Textual
    styles no links; neither does this. ``_render_cache`` and ``_selecting`` are private:
    tests/test_textual_private_api.py checks them."""
    if not widget.auto_links:
        draw()
        return
    widget.set_reactive(Widget.auto_links, False)
    try:
        draw()
    finally:
        widget.set_reactive(Widget.auto_links, True)
    if not widget.screen._selecting:
        links.style(widget._render_cache.lines, widget.link_style)
