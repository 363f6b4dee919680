"""One layout pass per change for the widgets a streaming reply resizes.

After laying the screen out, Textual hands every widget its new size through
``Widget._size_updated``, which sets ``virtual_size``: a reactive declared with
``layout=True``. So each widget whose height had just changed asked for a second layout
of the screen, and a repaint of its whole region, right after the first had placed it: on
every update of a growing reply the message pane and the reply's containers were laid out
and painted twice (counted in a pty at 200 tok/s: most second layouts came from here).

Textual itself skips that reactive when it scrolls (``layout=False``); these widgets skip
it when only their height changed, and for a scrolling pane only while its vertical
scrollbar is shown and stays; and on their first layout when they cannot scroll (a new
page or code block column of a streaming reply, on most updates). Anything else keeps the
second pass: a scrollbar coming changes the width the content is laid out at, and a
widget that scrolls, laid out for the first time, is only right after it (code panels came
out two cells too wide without). The override is of a private method:
``tests/test_textual_private_api.py`` checks it.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Size
from textual.widget import Widget

__all__ = ["OneLayoutPass"]


class OneLayoutPass:
    """Mixed in before a Textual widget class: a new height asks for no second layout.

    Not a ``Widget`` itself: Textual gathers a widget's default CSS along the first
    ``DOMNode`` base of each class, so a ``Widget`` mixin first would hide the CSS of the
    class it is mixed into (a ``VerticalScroll`` lost its own)."""

    def _size_updated(self: Any, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        if layout and (only_height_changes(self, size, virtual_size, container_size)
                       or first_layout_without_scrolling(self)):
            layout = False
        return super()._size_updated(size, virtual_size, container_size, layout)  # type: ignore[misc]


def first_layout_without_scrolling(widget: Widget) -> bool:
    """Placed for the first time, and it cannot scroll: no scrollbar of its own can come and
    change the width its content is laid out at, so a second pass would place the same (a
    new page, block view or code block column of a streaming reply, on most updates at
    200 tok/s)."""
    return (not widget._size.height
            and widget.styles.overflow_x not in ("auto", "scroll")
            and widget.styles.overflow_y not in ("auto", "scroll"))


def only_height_changes(widget: Widget, size: Size, virtual_size: Size,
                        container_size: Size) -> bool:
    """Laid out before at this width, and (scrolling) with a vertical scrollbar that stays:
    nothing a second pass could place differently."""
    if not (widget._size.height and widget._size.width == size.width
            and widget.virtual_size.width == virtual_size.width
            and widget._container_size.width == container_size.width):
        return False
    if widget.styles.overflow_y in ("auto", "scroll"):
        return (widget.show_vertical_scrollbar and not widget.show_horizontal_scrollbar
                and virtual_size.height > container_size.height)
    return True
