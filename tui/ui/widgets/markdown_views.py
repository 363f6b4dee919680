"""The widgets a streamed reply's finished blocks live in (see ``streaming_markdown``)."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.visual import Visual
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tui.ui.widgets.markdown_blocks import Block
from tui.ui.widgets.markdown_selection import Selectable, extract

__all__ = ["BlockPage", "MarkdownBlockView", "RowOffsets", "selectable", "selected_text"]


def selectable(visual: Visual) -> Visual:
    """What a widget shows for ``visual`` so a mouse selection can copy from it: Textual
    selects in plain ``Content`` itself; anything else is drawn with row offsets."""
    return visual if isinstance(visual, Content) else Selectable(visual)


def selected_text(widget: Widget, selection: Selection) -> str | None:
    """The text ``selection`` covers in a widget showing a :func:`selectable` visual."""
    visual = widget._render()
    if not isinstance(visual, Selectable):
        return None
    width = widget.size.width
    rows = visual.rows(width)
    if rows is None:  # never drawn at this width (scrolled past): draw it once
        Visual.to_strips(widget, visual, width, None, widget.visual_style)
        rows = visual.rows(width) or []
    return extract(rows, selection)


class RowOffsets(Widget):
    """Base for a widget showing a :class:`Selectable`: a row Textual reads back to find
    the character under the pointer gets its offsets; a row painted does not (see
    :class:`Selectable`). Painting goes through ``render_lines``, the pointer through
    ``render_line`` alone."""

    _painting = False

    def render_lines(self, crop: Region) -> list[Strip]:
        self._painting = True
        try:
            return super().render_lines(crop)
        finally:
            self._painting = False

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        if self._painting:
            return line
        visual = self._render()
        return visual.offset_line(y, line) if isinstance(visual, Selectable) else line


class MarkdownBlockView(RowOffsets, Static):
    """One finished (or the live) top-level block.

    ``render_count`` counts how often its lines were drawn from the visual
    (debug/tests): a finished block is drawn once per width it is shown at.
    """

    DEFAULT_CSS = """
    MarkdownBlockView {
        height: auto;
    }
    """

    def __init__(self, block: Block | None = None, *, first: bool = False, **kwargs: Any) -> None:
        classes = [kwargs.pop("classes", "") or ""]
        if block is not None:
            classes.append(f"-{block.kind}")
        if first:
            classes.append("-first")
        super().__init__(
            selectable(block.visual) if block else Content(""),
            classes=" ".join(classes).strip(), **kwargs
        )
        self.kind = block.kind if block else ""
        self.render_count = 0

    def show(self, block: Block) -> None:
        """Show ``block`` instead (the same block, built again)."""
        if block.kind != self.kind:
            self.remove_class(f"-{self.kind}")
            self.add_class(f"-{block.kind}")
            self.kind = block.kind
        self.update(block.visual)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(selectable(content) if isinstance(content, Visual) else content,
                       layout=layout)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """Blocks copy a blank line apart, as they are shown; the pieces of a code block
        still streaming are one block, a newline apart, and a block that copies as nothing
        (a rule) as one empty line."""
        text = selected_text(self, selection)
        if text is None:
            plain = super().get_selection(selection)
            if plain is None:
                return None
            text = plain[0]
        visual = self.visual
        inner = visual.visual if isinstance(visual, Selectable) else visual
        if not text or getattr(inner, "bottom", True) is False:
            return text, "\n"
        return text, "\n\n"

    def _render_content(self) -> None:
        self.render_count += 1
        super()._render_content()

    def action_link(self, href: str) -> None:
        """Open a link clicked in the block (only http/https/mailto get here)."""
        self.app.open_url(href)


class BlockPage(Vertical):
    """Up to ``PAGE_SIZE`` finished blocks.

    Textual measures an auto-height container against its parent's height,
    which grows on every streamed line, so it would re-arrange every page on
    every frame.  A page's height depends only on its width and its
    (immutable) children, so it is cached on exactly that.
    """

    def __init__(self, *children: Widget) -> None:
        super().__init__(*children, classes="-page")
        self._height_key: tuple[object, ...] | None = None
        self._height = 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        key = (width, self._nodes._updates, self._layout_updates, self.styles._cache_key)
        if key != self._height_key:
            self._height = super().get_content_height(container, viewport, width)
            self._height_key = key
        return self._height
