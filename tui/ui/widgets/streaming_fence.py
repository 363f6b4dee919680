"""The open code fence of a streaming reply (see ``streaming_markdown``): frozen,
already-highlighted chunks plus a small live remainder, so long code costs the same per
update as short code.

A mixin of :class:`StreamingMarkdown`, kept apart because the fence has its own views (a
``FenceColumn`` of chunk views and one live view) and its own bookkeeping of what is shown.
"""

from __future__ import annotations

from collections.abc import Awaitable

from tui.ui.widgets.markdown_blocks import Block
from tui.ui.widgets.markdown_splitter import MarkdownSplitter, OpenFence
from tui.ui.widgets.markdown_views import FenceColumn, MarkdownBlockView
from tui.ui.widgets.stream_pace import height_changes

__all__ = ["OpenFenceView"]


class OpenFenceView:
    """Mixed into StreamingMarkdown: shows the splitter's open fence, if any.

    A plain class, not a ``Widget``, for the reason OneLayoutPass gives (Textual reads
    default CSS along the first ``DOMNode`` base). The other state it reads is
    StreamingMarkdown's."""

    _splitter: MarkdownSplitter
    _live: MarkdownBlockView | None
    _block_views: int
    _code_blocks: int

    _fence_view: FenceColumn | None
    _fence_live: MarkdownBlockView | None
    _fence_chunks_shown: int
    _fence_shown: OpenFence | None
    _removals: list[Awaitable[None]]

    def _forget_fence(self) -> None:
        """No open fence shown (the caller removes its view, if there is one)."""
        self._fence_view = None
        self._fence_live = None
        self._fence_chunks_shown = 0
        self._fence_shown = None

    def _show_fence(self) -> None:
        fence = self._splitter.fence
        if fence is None or fence is not self._fence_shown:
            # No open fence, or another one than shown (one closed and the next
            # opened within one update): the old fence's view goes.
            if self._fence_view is not None:
                self._removals.append(self._fence_view.remove())
                self._fence_view = None
                self._fence_live = None
                self._fence_chunks_shown = 0
            self._fence_shown = fence
            if fence is None:
                return
        if self._fence_view is None:
            self._fence_view = FenceColumn(classes="-fence")
            self._fence_view.set_class(self._block_views == 0, "-first")
            live = self._fence_live = MarkdownBlockView(classes="-fence-live")
            if self._live is not None:
                self.mount(self._fence_view, before=self._live)
            else:
                self.mount(self._fence_view)
            self._fence_view.mount(live)
        view = self._fence_view
        for piece in (*fence.chunks[self._fence_chunks_shown:], fence.live):
            if piece is not None and piece.top:
                piece.number = self._code_blocks + 1  # the open fence: the next number
        if len(fence.chunks) > self._fence_chunks_shown:
            new = [
                MarkdownBlockView(Block("code", chunk))
                for chunk in fence.chunks[self._fence_chunks_shown :]
            ]
            view.mount_all(new, before=self._fence_live)
            self._fence_chunks_shown = len(fence.chunks)
        if fence.live is not None and self._fence_live is not None:
            # Growing into the blank rows below the reply (stream_runway), its last lines
            # need a repaint of their view alone, not a layout of the screen.
            self._fence_live.update(fence.live,
                                    layout=height_changes(self._fence_live, fence.live))
