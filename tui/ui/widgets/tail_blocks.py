"""Finished blocks of a streaming reply wait in its tail's view until a layout comes anyway.

A block that ends moves from the tail's view to a page of finished blocks. The text does not
move on screen, but two widgets change height (the page grows, the tail shrinks), and
Textual lays the screen out again to place them: at 20 tok/s a pty census counted 24 of a
600-token reply's 55 layouts (~10 ms each) from these moves alone.

So a finished block stays in the tail's view, drawn above the unfinished text as it was,
while the tail keeps its height (it grows into the blank rows kept below the text:
``stream_runway``). The blocks kept go to a page in the next update that lays the screen
out anyway: the tail outgrows its rows, a code block opens (its column goes between the
pages and the tail), a block is built again, too many are kept, or the reply ends. A kept
block is drawn once (``PageStack`` keeps what it drew of each child).
"""

from __future__ import annotations

from textual.visual import Visual

from tui.ui.widgets.markdown_blocks import Block
from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.markdown_views import FenceColumn, MarkdownBlockView, PageStack
from tui.ui.widgets.stream_pace import height_changes

__all__ = ["BlocksKeptInTail"]


class BlocksKeptInTail:
    """Mixed into StreamingMarkdown (a plain class: see ``OneLayoutPass``); the state it
    reads besides its own is StreamingMarkdown's."""

    TAIL_BLOCKS = 8
    """Most finished blocks the tail's view keeps (each update draws the view's rows)."""

    _splitter: MarkdownSplitter
    _live: MarkdownBlockView | None
    _fence_view: FenceColumn | None

    _kept: list[Block]
    _kept_stack: PageStack

    def _forget_kept(self) -> list[Block]:
        """The blocks kept in the tail, which the caller shows elsewhere from now on."""
        kept = getattr(self, "_kept", [])
        self._kept = []
        self._kept_stack = PageStack([])
        return kept

    def _keep_in_tail(self, finished: list[Block], final: bool) -> bool:
        """Keep ``finished`` (and the blocks kept before) in the tail's view, if showing
        them there with the unfinished text keeps the view's height."""
        if final:
            return False
        if not finished and not self._kept:
            return True  # nothing to keep: the tail shows its unfinished text alone
        splitter = self._splitter
        view = self._live
        if (splitter.revised or splitter.fence is not None or splitter.table is not None
                or self._fence_view is not None or view is None or not view.display
                or not view.is_mounted or len(self._kept) + len(finished) > self.TAIL_BLOCKS):
            return False
        stack = self._kept_stack.with_children(_shown([*self._kept, *finished], splitter.live))
        if height_changes(view, stack):
            return False
        self._kept.extend(finished)
        self._kept_stack = stack
        return True

    def _tail_visual(self, live: Block | None) -> Visual | None:
        """What the tail's view shows: the blocks kept, then the unfinished text."""
        if not self._kept:
            return live.visual if live is not None else None
        children = _shown(self._kept, live)
        if self._kept_stack.children != children:  # not measured with these already
            self._kept_stack = self._kept_stack.with_children(children)
        return self._kept_stack


def _shown(kept: list[Block], live: Block | None) -> list[Visual]:
    """The tail view's visuals: the kept blocks', then the unfinished text's, if any."""
    return [block.visual for block in kept] + ([live.visual] if live is not None else [])
