"""The widgets a streamed reply's finished blocks live in (see ``streaming_markdown``)."""

from __future__ import annotations

from typing import Any, Self

from textual.containers import Vertical
from textual.content import Content
from textual.css.styles import RulesMap
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widget import Widget
from textual.widgets import Static

from tui.ui.widgets.appended_rows import KeepsRowsAbove
from tui.ui.widgets.link_rows import LinkRows, draw_with_links_styled
from tui.ui.widgets.markdown_blocks import Block
from tui.ui.widgets.markdown_layout import Stack
from tui.ui.widgets.markdown_selection import Row, Selectable, extract, render_rows
from tui.ui.widgets.moved_only import RepaintWhatMoved
from tui.ui.widgets.one_layout import OneLayoutPass

__all__ = [
    "BlockPage", "MarkdownBlockView", "PageStack", "RowOffsets", "selectable", "selected_text",
]


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


class RowOffsets(OneLayoutPass, Widget):
    """Base for a widget showing a :class:`Selectable`: a row Textual reads back to find
    the character under the pointer gets its offsets; a row painted does not (see
    :class:`Selectable`). Painting goes through ``render_lines``, the pointer through
    ``render_line`` alone."""

    _painting = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        """Forget what was measured of the old content even before the widget has mounted.

        Textual lays a container's children out before each has mounted, and caches a
        child's height and visual; but its ``refresh`` drops those caches only once the
        widget has mounted. A page given a block while mounting, after the screen had
        measured it, so kept its old height, and when its first placement came from a
        scroll (which asks for no new layout) it stayed that height: a reply's 150-row
        table drawn as zero rows, the rest of the reply below it (a pty test, under load).
        ``_layout_cache`` is private: ``tests/test_textual_private_api.py`` checks it."""
        if repaint and not self.is_mounted:
            self.clear_cached_dimensions()
            self._layout_cache.clear()
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    _links: LinkRows | None = None

    def _render_content(self) -> None:
        if self._links is None:
            self._links = LinkRows()
        draw_with_links_styled(self, self._links, super()._render_content)

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

    def action_link(self, href: str) -> None:
        """Open a link clicked in the Markdown (only http/https/mailto get here)."""
        self.app.open_url(href)


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
        self.min_rows = 0
        """Rows it takes at least: a streaming reply's tail fills the blank rows kept below
        the text (``stream_runway``), so that its text grows without a new layout."""
        self.text_rows = 0
        """Its text's rows when last measured."""

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self.text_rows = super().get_content_height(container, viewport, width)
        return max(self.text_rows, self.min_rows)

    def fill(self, rows: int) -> bool:
        """Take at least ``rows`` rows from the next arrangement on; whether that changed.
        Textual keeps the box model it measured (private ``_box_model_cache``:
        tests/test_textual_private_api.py) until the widget asks for a layout itself."""
        if rows == self.min_rows:
            return False
        self.min_rows = rows
        self._box_model_cache.clear()
        return True

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

    def shown_visual(self) -> Visual:
        """The block's own visual (not the wrapper that lets it be selected)."""
        visual = self.visual
        return visual.visual if isinstance(visual, Selectable) else visual

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """Blocks copy a blank line apart, as they are shown; the pieces of a code block
        still streaming are one block, a newline apart, and a block that copies as nothing
        (a rule) as one empty line. A hidden view (the tail between two blocks, still holding
        text that moved onto a page) copies nothing."""
        if not self.display:
            return None
        text = selected_text(self, selection)
        if text is None:
            plain = super().get_selection(selection)
            if plain is None:
                return None
            text = plain[0]
        inner = self.shown_visual()
        if not text or getattr(inner, "bottom", True) is False:
            return text, "\n"
        return text, "\n\n"

    def _render_content(self) -> None:
        self.render_count += 1
        super()._render_content()


class PageStack(Stack):
    """A page's blocks one above another, each drawn once per width and style: a block
    added to the page, or built again, is the only one drawn anew (``draws`` counts)."""

    def __init__(self, children: list[Visual]) -> None:
        super().__init__(children)
        self._drawn: dict[int, tuple[Visual, int, Style, list[Strip], list[Row]]] = {}
        self._heights: dict[int, tuple[Visual, int, int]] = {}
        self.draws = 0

    def with_children(self, children: list[Visual]) -> PageStack:
        """The same page showing ``children``: what it drew of the ones it keeps is kept."""
        page = PageStack(children)
        keep = {id(child) for child in children}
        page._drawn = {key: value for key, value in self._drawn.items() if key in keep}
        page._heights = {key: value for key, value in self._heights.items() if key in keep}
        page.draws = self.draws
        return page

    def forget(self) -> None:
        """Draw everything anew (the theme or the styles changed)."""
        self._drawn.clear()
        self._heights.clear()

    def child_rows(self, child: Visual, width: int, style: Style,
                   options: RenderOptions) -> tuple[list[Strip], list[Row]]:
        drawn = self._drawn.get(id(child))
        if drawn is None or drawn[0] is not child or drawn[1] != width or drawn[2] != style:
            self.draws += 1
            strips, rows = render_rows(child, width, style, options)
            drawn = (child, width, style, strips, rows)
            self._drawn[id(child)] = drawn
            self._heights[id(child)] = (child, width, len(strips))
        return drawn[3], drawn[4]

    def get_height(self, rules: RulesMap, width: int) -> int:
        height = max(0, len(self.children) - 1) * self.gap
        for child in self.children:
            known = self._heights.get(id(child))
            if known is None or known[0] is not child or known[1] != width:
                known = (child, width, child.get_height(rules, width))
                self._heights[id(child)] = known
            height += known[2]
        return height


class BlockPage(KeepsRowsAbove, RowOffsets):
    """Up to ``PAGE_SIZE`` finished blocks of a streaming reply, drawn as one widget.

    A view per block made a 4,000-token reply ~270 widgets, which Textual arranges and
    paints on every frame of the stream; a page is one, and a block added to it is the only
    one drawn (see :class:`PageStack`). It copies like a complete message: blocks a blank
    line apart.
    """

    DEFAULT_CSS = """
    BlockPage {
        height: auto;
    }
    """

    def __init__(self, *, first: bool = False) -> None:
        super().__init__(classes="-page -first" if first else "-page")
        self.blocks: list[Block] = []
        self._stack = PageStack([])
        self._visual = Selectable(self._stack)

    def __len__(self) -> int:
        return len(self.blocks)

    @property
    def draws(self) -> int:
        """How many times a block of this page was drawn (tests)."""
        return self._stack.draws

    def add(self, blocks: list[Block]) -> None:
        """Show ``blocks`` after the ones shown."""
        self.blocks.extend(blocks)
        self._show()
        self.appended()  # the rows drawn above stay (``appended_rows``)

    def replace(self, index: int, block: Block) -> None:
        """Show ``block`` instead of the page's ``index``-th (the same block, built again)."""
        self.blocks[index] = block
        self._show()
        self.changed()

    def _show(self) -> None:
        self._stack = self._stack.with_children([block.visual for block in self.blocks])
        self._visual = Selectable(self._stack)

    def render(self) -> Visual:
        return self._visual

    def notify_style_update(self) -> None:
        self._stack.forget()
        super().notify_style_update()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """Blocks copy a blank line apart; a page ending in a block that copies as an empty
        line (a rule) has that line already."""
        text = selected_text(self, selection)
        if text is None:
            return None
        return text, "\n" if text.endswith("\n") else "\n\n"


class FenceColumn(RepaintWhatMoved, OneLayoutPass, Vertical):
    """The views of a code block still streaming: its finished chunks and its last lines.

    It grows with every update inside the block; as a plain ``Vertical`` each growth asked
    for a second layout of the screen on the next frame (a pty census at 20 tok/s: a ~4 ms
    layout after every update while a code block streamed)."""

