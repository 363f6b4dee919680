"""The assistant-reply widget: Markdown that can grow a few characters at a time.

Design (see ``markdown_splitter`` for the parsing side):

* finished top-level blocks go to pages (:class:`BlockPage`) of up to
  :attr:`StreamingMarkdown.PAGE_SIZE` blocks, each page one widget that draws each of its
  blocks once (per width): a long reply is a few dozen widgets, not hundreds;
* the unfinished tail is one more ``Static`` whose visual is replaced on a
  throttle (at most every :attr:`StreamingMarkdown.FLUSH_INTERVAL` seconds, and only as
  often as the streamed text pays for: ``stream_pace.FramePacer``, driven from
  ``streaming_flush``); a tail that keeps its height is repainted without a re-layout; the
  final update (:meth:`finish`) is never paced and shows the last block in the tail's own
  view, so no frame lacks it;
* while it streams, the widget keeps a few blank rows below its text (``stream_runway``),
  so a new line does not move the conversation above it; its owner gives them back
  (:meth:`close_runway`) once the reply is over;
* an open code fence is shown as frozen, already-highlighted chunks plus a
  small live remainder, so long code costs the same per update as short code
  (``streaming_fence``);
* a complete message (:meth:`StreamingMarkdown.set_text`) has no children at
  all: the widget renders all its blocks itself, which makes a long
  conversation cost one widget per message.

Model output is always literal: the visuals are built from ``Content`` (no
markup parsing) and control characters are replaced by visible symbols.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from functools import lru_cache, partial
from typing import Any

from textual.app import ComposeResult, RenderResult
from textual.selection import Selection
from textual.timer import Timer
from textual.widget import Widget

from tui.ui.widgets.block_pages import FinishedBlockPages
from tui.ui.widgets.literal_text import LiteralText, literal
from tui.ui.widgets.markdown_blocks import Block, Stack
from tui.ui.widgets.markdown_code import number_code_blocks
from tui.ui.widgets.markdown_selection import Selectable
from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.markdown_views import (
    BlockPage,
    MarkdownBlockView,
    RowOffsets,
    selected_text,
)
from tui.ui.widgets.moved_only import RepaintWhatMoved
from tui.ui.widgets.stream_pace import FramePacer, MountHolds, height_changes
from tui.ui.widgets.streaming_fence import OpenFenceView
from tui.ui.widgets.stream_runway import StreamRunway
from tui.ui.widgets.streaming_flush import FlushSchedule
from tui.ui.widgets.tail_blocks import BlocksKeptInTail

__all__ = ["BlockPage", "LiteralText", "MarkdownBlockView", "StreamingMarkdown", "literal"]


_NOTHING = Stack([])
"""What an empty reply shows: no rows (``Content("")`` would be one)."""


@lru_cache(maxsize=256)
def _complete_blocks(text: str) -> tuple[Block, ...]:
    """Blocks of a complete message; cached because blocks are immutable and
    re-opening a conversation shows the same messages again."""
    splitter = MarkdownSplitter()
    splitter.feed(text)
    blocks = tuple(splitter.update(final=True))
    number_code_blocks([block.visual for block in blocks])
    return blocks


# The mixins are plain classes placed before RowOffsets: its default CSS stays found.
class StreamingMarkdown(RepaintWhatMoved, FlushSchedule, StreamRunway, OpenFenceView,
                        BlocksKeptInTail, FinishedBlockPages, RowOffsets):
    """Markdown for one assistant reply, streamed or loaded whole.

    Call :meth:`append` per delta (cheap: it only queues text), :meth:`finish`
    when the reply is complete, or :meth:`set_text` for a stored message.
    """

    DEFAULT_CSS = """
    StreamingMarkdown {
        height: auto;
        & > .-fence { height: auto; }
        & > BlockPage, & > MarkdownBlockView, & > .-fence {
            margin-top: 1;
            &.-first { margin-top: 0; }
        }
    }
    """

    FLUSH_INTERVAL = 0.04
    """Coalesce appends: the tail is re-rendered at most this often (seconds); 0 updates on
    the next loop turn, unpaced (tests)."""

    HOLD_SPACING = 0.15
    """An update this long or longer after the one before holds the screen while its new
    views mount (see ``_flush``); the reply's end always does."""

    MOUNT_HOLD = 0.25
    """Longest the screen waits for an update's new block views to mount (``MountHolds``)."""

    def __init__(self, initial: str = "", **widget_kwargs: Any) -> None:
        super().__init__(**widget_kwargs)
        self._raw: list[str] = [initial] if initial else []
        self._splitter = MarkdownSplitter()
        self._static_visual: Selectable | None = None
        self._live: MarkdownBlockView | None = None
        self._forget_fence()
        self._forget_kept()
        self._removals: list[Awaitable[None]] = []
        """Views this update removed (what ``remove()`` returned): see ``_flush``."""
        self._forget_pages()
        self._code_blocks = 0  # numbered so far (streaming)
        self._timer: Timer | None = None
        self._timer_due = 0.0
        self._timer_in_debt = False  # set while the credit was spent (see _schedule_flush)
        self._flush_scheduled = False
        self.pacer = FramePacer()
        self._finished = False
        self._holds = MountHolds(self.MOUNT_HOLD)
        self.flush_count = 0
        """How many times the tail was re-rendered (debug / tests)."""
        if initial:
            self._splitter.feed(initial)

    # -- public API ------------------------------------------------------------

    @property
    def text(self) -> str:
        """The full Markdown source received so far (as given, unsanitised)."""
        if len(self._raw) > 1:
            self._raw[:] = ["".join(self._raw)]
        return self._raw[0] if self._raw else ""

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def streams(self) -> bool:
        """Shows streamed text (not a stored message rendered whole): while it grows, blank
        rows are kept below it (``stream_runway``)."""
        return self._static_visual is None

    @property
    def splitter(self) -> MarkdownSplitter:
        """The parser state; its ``parsed_chars_*`` counters show per-update work."""
        return self._splitter

    def append(self, text: str) -> None:
        """Add a streamed delta; the screen catches up within FLUSH_INTERVAL.

        After :meth:`set_text` this continues that message; after :meth:`finish`
        it is an error.
        """
        if not text:
            return
        if self._static_visual is not None:
            self._reopen()
        elif self._finished:
            raise RuntimeError("append() after finish(); use set_text() to replace")
        self._raw.append(text)
        self._splitter.feed(text)
        self.pacer.earn(time.monotonic(), len(text))
        self._schedule_flush()

    def finish(self, *, keep_runway: bool = False) -> None:
        """The reply is complete: show the final text now, exactly. ``keep_runway``: the
        blank rows below it stay until :meth:`close_runway` (a reply's block closes them once
        the reply is stored, so the last words get a frame of their own)."""
        self._cancel_flush()
        self._finished = True
        if not keep_runway:
            self.close_runway()
        if self.is_attached:
            self._flush(final=True)

    def set_text(self, text: str) -> None:
        """Replace everything with a complete message, rendered in one pass."""
        self._cancel_flush()
        self._holds.release()  # the views they wait for are about to go
        self._removals = []
        self._raw = [text] if text else []
        self._splitter = MarkdownSplitter()
        blocks = _complete_blocks(text)
        self._finished = True
        self._live = None
        self._forget_fence()
        self._forget_kept()
        self._forget_pages()
        self._static_visual = Selectable(Stack([block.visual for block in blocks]))
        if self.children:
            self.remove_children()
        self.refresh(layout=True)

    # -- Textual ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self._splitter.tail_size and self._static_visual is None:
            blocks = self._splitter.update(self._finished)
            self._code_blocks = number_code_blocks([block.visual for block in blocks],
                                                   self._code_blocks)
            for start in range(0, len(blocks), self.PAGE_SIZE):
                page = self._new_page()
                self._add_to_page(page, blocks[start : start + self.PAGE_SIZE])
                yield page
            if self._splitter.live is not None or self._splitter.fence is not None:
                self.call_later(self._flush)

    def draws_own_content(self) -> bool:
        """A complete message draws its blocks itself; a streaming one has views for them."""
        return self._static_visual is not None

    @property  # type: ignore[override]
    def BLANK(self) -> bool:  # noqa: N802 (Textual's name)
        """While it streams, its own lines are blank (its views draw the text): Textual then
        repeats one blank line instead of styling each row, every time the reply grows."""
        return self._static_visual is None

    def render(self) -> RenderResult:
        """Only used for a complete message (no children); nothing is 0 rows tall."""
        return self._static_visual if self._static_visual is not None else _NOTHING

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """A complete message draws all its blocks itself, so it copies them itself."""
        text = selected_text(self, selection)
        return None if text is None else (text, "\n\n")

    def on_unmount(self) -> None:
        self._cancel_flush()
        self._holds.release()

    async def painted(self) -> None:
        """Until the screen has painted this widget's last update (the whole text, after
        :meth:`finish`), its new block views included."""
        await self._holds.wait()
        await self.wait_for_refresh()

    # -- internals -------------------------------------------------------------

    def _reopen(self) -> None:
        """append() after set_text(): continue streaming from that text."""
        source = self.text
        self._static_visual = None
        self._finished = False
        self.open_runway()
        self._splitter = MarkdownSplitter()
        self._splitter.feed(source)
        self._code_blocks = 0
        if self.is_attached:
            self._flush()

    def _flush(self, final: bool = False) -> None:
        """Move finished blocks into their own widgets; redraw the tail."""
        self._timer = None
        self._flush_scheduled = False
        if self._static_visual is not None or (not final and self._finished_shown()):
            return  # an update asked for before finish() did it all
        final = final or self._finished
        started = time.monotonic()
        since_last = started - self.pacer.last
        self.pacer.started(started)
        self.flush_count += 1
        cpu_started = time.thread_time()
        splitter = self._splitter
        finished = splitter.update(final=final)
        self._code_blocks = number_code_blocks([block.visual for block in finished],
                                               self._code_blocks)
        with self.app.batch_update():
            if self._keep_in_tail(finished, final):
                finished = []  # shown in the tail's view, above the unfinished text
            else:
                finished = self._forget_kept() + finished
            # The final update shows the last block in the tail's view, already on screen:
            # a new view would only paint once mounted, a few loop turns later, and a frame
            # painted meanwhile would lack the reply's last words.
            last = finished.pop() if final and finished and self._can_adopt_live() else None
            if finished:
                self._mount_finished(finished)
                if self._live is not None:
                    self._live.remove_class("-first")
            if last is not None:
                self._adopt_live(last)
            self._show_revised()
            self._show_fence()
            self._show_live()
        # An update that mounts or removes views is painted once they have settled, in one
        # frame (Textual lays their parent out again then), and its cost taken after it. Not
        # when updates come close together (a fast stream): holding the screen that often
        # kept keys typed meanwhile from showing (keystroke to echo at 2,000 tok/s, median
        # 9 -> 19-35 ms in a pty), and the next update is a few frames away anyway.
        pending, removals = self._pending_views(), self._take_removals()
        if final or since_last >= self.HOLD_SPACING:
            note = None if final else partial(self._charge_when_painted, started, cpu_started)
            # The views this update changed pass their requests on now (pass_on_requests),
            # and the screen paints once it has read them all: one layout, not two.
            changed = self._shown_views()
            if self._holds.hold(self, pending, removals, note, changed, at_once=final):
                return
            self._holds.hold_until_read(self, changed, at_once=final)
        if not final:
            # Not held: the cost is taken after a second frame, the one that follows the
            # new views' mount, if any (it comes at once when nothing is left to paint).
            self._charge_when_painted(started, cpu_started, 2)

    def _shown_views(self) -> list[Widget]:
        """This widget and the views an update may have changed (the last page, the tail's
        and the open code block's views)."""
        fence = self._fence_view.children if self._fence_view is not None else ()
        return [self, *self.children, *fence]

    def _charge_when_painted(self, started: float, cpu_started: float, frames: int = 1) -> None:
        if self.is_attached:
            self.call_after_refresh(self._note_frame, started, cpu_started, frames)

    def _take_removals(self) -> list[Awaitable[None]]:
        removals, self._removals = self._removals, []
        return removals

    def _pending_views(self) -> list[Widget]:
        """Widgets this update added that have not mounted yet."""
        nodes = list(self.children)
        if self._fence_view is not None:
            nodes.extend(self._fence_view.children)
        return [node for node in nodes if not node.is_mounted]

    def _finished_shown(self) -> bool:
        splitter = self._splitter
        return (self._finished and not splitter.tail_size and splitter.live is None
                and splitter.fence is None)

    def runway_filler(self) -> MarkdownBlockView | None:
        """The view shown last, if it grows as the reply streams: the tail's, or the last
        lines of a code block still streaming (the tail is then empty, hidden below it)."""
        last = next((child for child in reversed(self.children) if child.display), None)
        if last is None:
            return None
        if last is self._live:
            return self._live
        if last is self._fence_view and self._fence_live is not None:
            column = self._fence_view.children
            if column and column[-1] is self._fence_live:
                return self._fence_live
        return None

    def _show_live(self) -> None:
        block = self._splitter.live
        if block is not None:
            # A code block closed in the same update as the text after it began waits in
            # the tail until that text's first line ends: it shows its number there already
            # (a slow frame, or a held stream, could leave it unnumbered on screen for long).
            number_code_blocks([block.visual], self._code_blocks)
        visual = self._tail_visual(block)
        if visual is None:
            # Hidden, not removed: the tail is empty for an update each time a block ends
            # and the next has not begun, and removing then mounting a view again cost two
            # more layouts of the screen each time.
            if self._live is not None and self._live.display:
                self._live.display = False
            return
        if self._live is None:
            self._live = MarkdownBlockView(classes="-live")
            self.mount(self._live)
        elif not self._live.display:
            self._live.display = True
        self._live.set_class(self._block_views == 0 and self._fence_view is None, "-first")
        self._live.update(visual, layout=height_changes(self._live, visual))
