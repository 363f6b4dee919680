"""Where a streaming reply's finished blocks are shown: pages of blocks, each block once.

A mixin of :class:`StreamingMarkdown`, kept apart because it owns the bookkeeping of the
finished blocks' views: the pages (:class:`BlockPage`, up to ``PAGE_SIZE`` blocks each,
one widget that draws each of its blocks once per width), the tail's view that becomes
the last block's at a reply's end, and which view shows which block, so a block the
splitter builds again (a reference it uses became known) is shown in its place.
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from tui.ui.widgets.markdown_blocks import Block
from tui.ui.widgets.markdown_code import number_as
from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.markdown_views import BlockPage, FenceColumn, MarkdownBlockView

__all__ = ["FinishedBlockPages"]


class FinishedBlockPages:
    """Mixed into StreamingMarkdown (a plain class: see ``OneLayoutPass``); the state it
    reads besides its own is StreamingMarkdown's, and ``mount`` is the widget's."""

    PAGE_SIZE = 64
    """Finished blocks per page (see ``_mount_finished``). Each layout of the reply measures
    and places every page, so fewer pages make the layouts of a long reply cheaper; a page
    that grows draws only its new rows (``appended_rows``), so a larger one costs little
    more to add to. 16 made a 20k-token reply ~60 pages, and the layout of its last update
    ~35 ms: interleaved in a pty at 2,000 tok/s, its lag read 35 ms median with 16 and 26
    with 64 (256 read the same as 64)."""

    _splitter: MarkdownSplitter
    _live: MarkdownBlockView | None
    _fence_view: FenceColumn | None

    _page: BlockPage | None
    _views: list[tuple[BlockPage, int] | MarkdownBlockView]
    """Where each finished block is shown (a page and its place there, or the tail's view
    that became the last block's), in the splitter's numbering (for revised blocks)."""
    _block_views: int
    """Finished blocks shown so far (the first one's view has no margin above it)."""

    def _forget_pages(self) -> None:
        """No finished block shown (the caller removes the views, if any)."""
        self._page = None
        self._views = []
        self._block_views = 0

    def _new_page(self) -> BlockPage:
        self._page = BlockPage(first=self._block_views == 0)
        return self._page

    def _add_to_page(self, page: BlockPage, blocks: list[Block]) -> None:
        """Show ``blocks`` (numbered already) on ``page``."""
        self._views.extend((page, len(page) + index) for index in range(len(blocks)))
        self._block_views += len(blocks)
        page.add(blocks)

    def _mount_finished(self: Any, blocks: list[Block]) -> None:
        """Add finished blocks to pages of at most PAGE_SIZE blocks.

        A page draws only the blocks added to it; a full page is never drawn again (at the
        same width), and its height is known. Only a new page mounts a widget.
        """
        while blocks:
            page = self._page
            new = page is None or len(page) >= self.PAGE_SIZE
            if new:
                page = self._new_page()
            assert page is not None
            room = self.PAGE_SIZE - len(page)
            batch, blocks = blocks[:room], blocks[room:]
            self._add_to_page(page, batch)
            if new:
                anchor = self._first_live()
                if anchor is not None:
                    self.mount(page, before=anchor)
                else:
                    self.mount(page)

    def _first_live(self) -> Widget | None:
        """The first view of the text still coming: new pages go above it."""
        return self._fence_view or self._live

    def _can_adopt_live(self) -> bool:
        return self._live is not None and self._fence_view is None

    def _adopt_live(self, block: Block) -> None:
        """The tail's view becomes the view of the final block (see ``_flush``)."""
        view, self._live = self._live, None
        assert view is not None
        view.fill(0)  # a finished block: its text's own height
        if not view.display:
            view.display = True
        view.remove_class("-live")
        view.set_class(self._block_views == 0, "-first")
        view.show(block)
        self._block_views += 1
        self._views.append(view)

    def _show_revised(self) -> None:
        """Show blocks the splitter built again (a reference they use became known)."""
        for number, block in self._splitter.revised:
            where = self._views[number]
            if isinstance(where, MarkdownBlockView):
                number_as(block.visual, where.shown_visual())
                where.show(block)
            else:
                page, index = where
                number_as(block.visual, page.blocks[index].visual)
                page.replace(index, block)
