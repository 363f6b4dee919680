"""The conversation view: a scrolling column of blocks, newest at the bottom.

The pane keeps its blocks in sort-key order and streams replies into them. The rest is
mixed in: which part of a long chat is mounted, and the pages asked for around it
(chat_pane_window.PaneWindow); the keys that move between blocks and act on the focused one
(chat_pane_keys.PaneKeys). What the pane asks of the app is in chat_pane_messages. The pane
never touches the store: the app feeds it messages.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.scrollbar import ScrollBar

from tui.core.models import Message, MessageStatus, Summary
from tui.core.pricing import Price
from tui.core.tree import Branch
from tui.ui import keys
from tui.ui.widgets import chat_pane_messages as asks
from tui.ui.widgets.chat_pane_keys import PaneKeys
from tui.ui.widgets.chat_pane_window import LOAD_OLDER_MARGIN, PaneWindow
from tui.ui.widgets.message_blocks import (
    AssistantBlock,
    ChatBlock,
    ErrorBlock,
    MessageBlock,
    NoticeBlock,
    SummaryBlock,
    blocks_for,
)
from tui.ui.widgets.one_layout import OneLayoutPass
from tui.ui.widgets.row_kinds_scrollbar import RowKindsScrollBar

__all__ = ["LOAD_OLDER_MARGIN", "UNSENT_SUFFIX", "ChatPane"]

_REMOVED = "\0removed"

# Sort-key suffix of the "not sent" marker: right after the message it follows.
UNSENT_SUFFIX = "~~unsent"


# The mixins are plain classes placed before VerticalScroll: its default CSS stays found.
class ChatPane(OneLayoutPass, PaneWindow, PaneKeys, VerticalScroll, can_focus=True):
    BINDINGS = keys.MESSAGES
    # Replies' headers show the server's usage and the reply's speed (u).
    show_usage: reactive[bool] = reactive(False, init=False)
    # A reply's price (model and server), for its usage line; None: no cost shown.
    price_lookup: Callable[[Message], Price | None] | None = None

    # What the pane asks of the app (tui/ui/widgets/chat_pane_messages.py).
    NeedOlder = asks.NeedOlder
    NeedNewer = asks.NeedNewer
    EdgeWanted = asks.EdgeWanted
    FirstWanted = asks.FirstWanted
    LastWanted = asks.LastWanted
    DeleteRequested = asks.DeleteRequested
    PinRequested = asks.PinRequested
    EditRequested = asks.EditRequested
    BranchRequested = asks.BranchRequested
    ForkRequested = asks.ForkRequested
    CopyRequested = asks.CopyRequested
    CopyModeRequested = asks.CopyModeRequested
    CodeCopyRequested = asks.CodeCopyRequested

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.conversation_id: str | None = None
        self.has_older = False
        # The window stops short of the newest message (after a jump to the first page).
        self.has_newer = False
        self._loading_older = False
        self._loading_newer = False
        self._summaries: dict[str, Summary] = {}
        self._delta_block: ChatBlock | None = None

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's own, drawn from the kinds of row it has (``row_kinds_scrollbar``).
        Made as Textual makes it (private ``_vertical_scrollbar`` and ``App._start_widget``:
        tests/test_textual_private_api.py)."""
        if self._vertical_scrollbar is None:
            bar = RowKindsScrollBar(vertical=True, name="vertical",
                                    thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    # -- what is shown ---------------------------------------------------------------------

    @property
    def blocks(self) -> list[ChatBlock]:
        return [child for child in self.children
                if isinstance(child, ChatBlock) and child.sort_key != _REMOVED]

    @staticmethod
    def _drop(block: ChatBlock) -> None:
        """Remove a block; it stops counting at once, though unmounting takes a moment."""
        block.sort_key = _REMOVED
        block.remove()

    def block(self, key: str) -> ChatBlock | None:
        for child in self.blocks:
            if child.sort_key == key:
                return child
        return None

    def _keys(self) -> list[str]:
        return [block.sort_key for block in self.blocks]

    def set_branches(self, branches: dict[str, Branch]) -> None:
        """Every shown message's place among its siblings (after a new reply or branch)."""
        for block in self.blocks:
            if isinstance(block, MessageBlock):
                block.set_branch(branches.get(block.message.id))

    def insert_block(self, block: ChatBlock) -> ChatBlock:
        """Mount ``block`` in order (usually at the end); an existing key is kept, not doubled."""
        existing = self.block(block.sort_key)
        if existing is not None:
            return existing
        keys = self._keys()
        if self.has_newer and keys and block.sort_key > keys[-1]:
            # Past the window's end (a reply arriving while the first page is read): it
            # shows with the newest page, as the unloaded messages before it do.
            return block
        for placeholder in self.query(".pane-placeholder"):
            placeholder.remove()
        index = bisect_right(keys, block.sort_key)
        if index >= len(keys):
            self.mount(block)
        else:
            self.mount(block, before=self.blocks[index])
        return block

    def add_message(self, message: Message, *, live_text: str | None = None,
                    error_kind: str | None = None) -> ChatBlock:
        """Show ``message`` (and its error, if any); returns its main block."""
        blocks = blocks_for(message, live_text=live_text, error_kind=error_kind)
        first = self.insert_block(blocks[0])
        for extra in blocks[1:]:
            self.insert_block(extra)
        return first

    def remove_key(self, key: str) -> None:
        """Drop a block and whatever hangs off it (``key~...``)."""
        for block in self.blocks:
            if block.sort_key == key or block.sort_key.startswith(f"{key}~error"):
                self._drop(block)

    def set_unsent_marker(self, after_id: str | None, text: str = "") -> None:
        """One marker after the newest message the next request leaves out (None: no marker)."""
        for block in self.blocks:
            if block.sort_key.endswith(UNSENT_SUFFIX):
                self._drop(block)
        if after_id is not None:
            self.insert_block(NoticeBlock(f"{after_id}{UNSENT_SUFFIX}", text))

    def add_summary(self, summary: Summary) -> None:
        self._summaries[summary.id] = summary
        self.insert_block(SummaryBlock(summary))

    def add_notice(self, key: str, text: str) -> None:
        self.insert_block(NoticeBlock(key, text))

    def add_error(self, key: str, error: str, kind: str | None) -> None:
        """An error not tied to a stored reply (e.g. the request never started)."""
        existing = self.block(key)
        if existing is not None:
            self._drop(existing)
        self.insert_block(ErrorBlock(key, error, kind))

    def append_delta(self, message_id: str, text: str) -> None:
        # Called per streamed token: remember the block instead of scanning for it each time
        # (still a child: is_attached would walk up to the app on every token).
        block = self._delta_block
        if block is None or block.sort_key != message_id or block.parent is not self:
            block = self._delta_block = self.block(message_id)
        if isinstance(block, AssistantBlock):
            block.append(text)

    def end_text(self, message_id: str) -> None:
        """A streamed reply's text is complete: show all of it at once (see
        AssistantBlock.end_text)."""
        block = self.block(message_id)
        if isinstance(block, AssistantBlock):
            block.end_text()

    def finish_message(self, message: Message, *, error_kind: str | None = None) -> None:
        """The stored final state of a reply: complete, interrupted or failed."""
        block = self.block(message.id)
        if isinstance(block, AssistantBlock) and message.status != MessageStatus.ERROR:
            block.finish(message)
            if message.error:
                self.insert_block(ErrorBlock(f"{message.id}~error", message.error, error_kind))
        else:
            if block is not None:
                self._drop(block)
            self.add_message(message, error_kind=error_kind)

    def watch_show_usage(self, show: bool) -> None:
        """Each reply's header gains (or loses) its usage line; a toggle, not per frame."""
        for block in self.query(AssistantBlock):
            block.refresh_header()

    def action_toggle_usage(self) -> None:
        self.show_usage = not self.show_usage

    def show_pinned(self, message_id: str, pinned: bool) -> None:
        block = self.block(message_id)
        if isinstance(block, MessageBlock):
            block.set_pinned(pinned)
