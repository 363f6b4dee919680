"""A compositor that does not draw what is hidden behind other widgets.

To paint a change, Textual's compositor asks every widget overlapping it for all its lines
and cuts each line at the screen's cuts, front to back, keeping the first piece for each
cut: the containers behind the message pane (the screen, its columns, the pane itself, a
reply's block) are drawn and cut line by line only for every piece to be thrown away. While
a reply streams the pane moves on every update, so each update paid that for the whole
pane. This one skips a widget's line when every piece of it is already taken, and the
widget when all its lines are: the screen it paints is the same, piece for piece.

It also keeps the map a layout has just made. ``reflow`` arranges every widget but leaves the
map marked stale when something had marked it so before (a widget not on screen asked to be
painted, a scroll): the first widget to ask where it is then arranged the whole screen
again, in the same frame. A pty census of a 4,000-token reply at 200 tok/s counted 22 such
second arrangements for 49 layouts.

``Compositor._render_chops``, which this replaces (with the part of ``_get_renders`` it
used), and ``_full_map_invalidated`` are private: tests/test_textual_private_api.py checks
them in the pinned Textual range, and tests/test_covered_compositor.py compares the pieces
with Textual's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from textual._compositor import Compositor, ReflowResult
from textual.geometry import Region, Size
from textual.strip import Strip

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.screen import Screen
    from textual.widget import Widget

__all__ = ["CoveredCompositor"]


class CoveredCompositor(Compositor):
    """Textual's compositor, minus the drawing of covered lines (see the module)."""

    def render_update(self, full: bool = False, screen_stack: list[Screen] | None = None,
                      simplify: bool = False) -> RenderableType | None:
        self._take_repaints_asked_meanwhile()
        return super().render_update(full, screen_stack, simplify)

    def reflow(self, parent: Widget, size: Size) -> ReflowResult:
        result = super().reflow(parent, size)
        # The map just made covers every widget (``visible_only=False``): the one
        # ``full_map`` would make again.
        self._full_map_invalidated = False
        return result

    def _take_repaints_asked_meanwhile(self) -> None:
        """Add the shown widgets waiting to pass on a request to be painted again (and
        nothing else: a new layout goes its own way) to this frame, the request taken: the
        message it would have sent asks for nothing more. ``_repaint_required`` and
        ``_layout_required`` are private: tests/test_textual_private_api.py checks them."""
        asked = {widget for widget in self.visible_widgets
                 if widget._repaint_required and not widget._layout_required}
        if asked:
            for widget in asked:
                widget._repaint_required = False
            self.update_widgets(asked)

    def _render_chops(
        self,
        crop: Region,
        is_rendered_line: Callable[[int], bool],
    ) -> Sequence[Mapping[int, Strip]]:
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        crop_overlaps = crop.overlaps
        intersection = Region.intersection
        # Front to back, as Textual's (visible_widgets is in reverse render order).
        for widget, (region, clip) in self.visible_widgets.items():
            if not crop_overlaps(clip):
                continue
            render_region = intersection(region, clip)
            x, top, width, height = render_region
            if not (width and height):
                continue
            first_cut, last_cut = render_region.column_span
            open_lines: list[tuple[int, list[int]]] = []
            for y in render_region.line_range:
                if not is_rendered_line(y):
                    continue
                get = chops[y].get
                final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
                # A piece goes where its cut has none yet, one piece per cut but the last
                # (the widget's right edge, where the next piece would start).
                if any(get(cut) is None for cut in final_cuts[:-1]):
                    open_lines.append((y, final_cuts))
            if not open_lines:
                continue
            # Only the lines from the first open one to the last: a change of one line
            # asked the sidebar and the columns beside it for all their lines (their
            # borders and padding are open on every line), each update of a reply.
            first = open_lines[0][0]
            rows = open_lines[-1][0] - first + 1
            strips = widget.render_lines(Region(x - region.x, first - region.y, width, rows))
            for y, final_cuts in open_lines:
                index = y - first
                if index >= len(strips):
                    break
                chops_line = chops[y]
                get = chops_line.get
                pieces = strips[index].divide([cut - x for cut in final_cuts[1:]])
                for cut, piece in zip(final_cuts, pieces):
                    if get(cut) is None:
                        chops_line[cut] = piece
        return chops  # type: ignore[return-value]
