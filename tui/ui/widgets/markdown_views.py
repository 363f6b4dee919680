"""The widgets a streamed reply's finished blocks live in (see ``streaming_markdown``)."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from tui.ui.widgets.markdown_blocks import Block

__all__ = ["BlockPage", "MarkdownBlockView"]


class MarkdownBlockView(Static):
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
            block.visual if block else Content(""), classes=" ".join(classes).strip(), **kwargs
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
