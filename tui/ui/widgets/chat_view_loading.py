"""How the chat view (:class:`ChatView`) reads the open conversation and puts it on the pane.

A chat opens on a screenful of its newest messages, read in a thread; the main screen reads
first (``load``) and swaps the whole chat in at once (``present``). The view also keeps what
it knows past the pane's window (the newest message, after a jump to the first page), which
is what a send says it has seen.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui.core import tree
from tui.core.models import Message, MessageStatus
from tui.ui.chat_pages import MIN_BLOCK_ROWS, LoadedChat
from tui.ui.widgets.message_blocks import AssistantBlock

if TYPE_CHECKING:
    from tui.ui.chat_pages import PageReader
    from tui.ui.reply_streams import ReplyStreams
    from tui.ui.widgets.chat_pane import ChatPane

EMPTY_PANE = "No messages yet. Type below and press Enter."


class ChatLoading:
    """Mixed into ChatView: a plain class, not a ``Widget`` (Textual reads default CSS along
    the first ``DOMNode`` base; see OneLayoutPass). The state it works on is ChatView's."""

    conversation_id: str | None
    pane: ChatPane
    _reader: PageReader
    _streams: ReplyStreams
    _newest_known: str | None
    _notices: dict[str, list[tuple[str, str]]]
    _error_kinds: dict[str, str]
    _finish_notes: dict[str, str]

    # -- showing a conversation ----------------------------------------------------------

    async def show(self, conversation_id: str | None, *, message_id: str | None = None,
                   highlight: bool = True, count: int | None = None) -> None:
        """Show a conversation's active path, or nothing: its newest ``count`` messages (by
        default a screenful). With ``message_id`` (a search hit, a switched branch) the path
        is made to run through it and is scrolled to it, marked as a hit if ``highlight``."""
        self.conversation_id = conversation_id
        self._newest_known = None
        if conversation_id is None:
            await self.pane.show(None, [], placeholder=EMPTY_PANE)
            return
        loaded = await self.load(conversation_id, message_id=message_id, count=count)
        if self.conversation_id != conversation_id:
            return  # another chat was opened meanwhile
        await self.present(loaded, highlight=highlight)

    async def load(self, conversation_id: str, *, message_id: str | None = None,
                   count: int | None = None) -> LoadedChat:
        """Read what ``show`` shows (in a thread), changing nothing on screen: the main
        screen reads first, then swaps the whole chat in one frame (``present``)."""
        fill = None if count else self._pane_size()
        return await asyncio.to_thread(self._reader.opening, conversation_id, message_id,
                                       count or self.screenful(), fill)

    async def present(self, loaded: LoadedChat, *, highlight: bool = True) -> None:
        """Show what ``load`` read."""
        self.conversation_id = loaded.conversation_id
        await self._show_loaded(loaded.conversation_id, loaded.messages, loaded.has_older,
                                loaded.summaries, loaded.message_id,
                                branches=loaded.branches, highlight=highlight,
                                has_newer=loaded.has_newer)
        self._newest_known = loaded.newest

    async def reload(self) -> None:
        await self.show(self.conversation_id)

    async def reload_in_place(self) -> None:
        """Reload (another window changed the chat): the bottom stays the bottom, and a
        reader scrolled up keeps the place."""
        pane = self.pane
        at_bottom = pane.max_scroll_y == 0 or pane.scroll_y >= pane.max_scroll_y
        where = pane.scroll_y
        # As many as were loaded (pages the reader scrolled up to): the place stays.
        loaded = sum(1 for block in pane.blocks if "~" not in block.sort_key)
        await self.show(self.conversation_id, count=max(loaded, self.screenful()))
        if at_bottom:
            pane.anchor()
            self.call_after_refresh(pane.scroll_end, animate=False, immediate=True)
        else:
            pane.anchor(False)
            self.call_after_refresh(pane.scroll_to, y=where, animate=False, immediate=True)

    def newest_message_id(self) -> str | None:
        """The newest stored message on screen (what a send may say it has shown)."""
        # Every block's key starts with the id of a message it shows or follows (a failed
        # reply's error block is keyed by the stored message's id).
        ids = [block.sort_key.split("~")[0] for block in self.pane.blocks]
        shown = max((i for i in ids if i), default=None)
        if self.pane.has_newer and self._newest_known is not None:
            return max(shown or "", self._newest_known)
        return shown

    def _saw(self, message_id: str) -> None:
        """A message of the open chat was stored here (shown or past the window's end)."""
        if self._newest_known is not None:
            self._newest_known = max(self._newest_known, message_id)

    def shows_a_stream_from_elsewhere(self) -> bool:
        """A stored reply still streaming, loaded from the database rather than received
        here (another window is writing it)."""
        return any(isinstance(block, AssistantBlock) and not block.live
                   and block.message.status == MessageStatus.STREAMING
                   for block in self.pane.blocks)

    def adopt(self, provisional: str, conversation_id: str) -> None:
        """A new chat shown under a provisional key was stored: it is that conversation."""
        if self.conversation_id == provisional:
            self.conversation_id = conversation_id
            self.pane.conversation_id = conversation_id

    def screenful(self) -> int:
        """How many messages surely fill the pane (what a chat opens on)."""
        return max(4, -(-self._pane_size()[1] // MIN_BLOCK_ROWS) + 1)

    def _pane_size(self) -> tuple[int, int]:
        """(width, height) of the pane; before it is laid out (the chat opened at
        start-up), the terminal's."""
        size = self.pane.size
        return (size.width or self.app.size.width, size.height or self.app.size.height)

    async def _show_loaded(self, cid: str, messages: list[Message], has_older: bool,
                           summaries: list, message_id: str | None, *,
                           branches: dict[str, tree.Branch], highlight: bool,
                           has_newer: bool = False) -> None:
        live = self._streams.get(cid)
        live_text = {live.message_id: live.text} if live and live.message_id else {}
        await self.pane.show(cid, messages, summaries=summaries,
                             notices=self._notices.get(cid, []), live=live_text,
                             has_older=has_older, has_newer=has_newer,
                             placeholder=EMPTY_PANE, branches=branches)
        for block in self.pane.blocks:
            kind = self._error_kinds.get(block.sort_key.split("~")[0])
            if kind is not None and hasattr(block, "kind"):
                block.kind = kind
            note = self._finish_notes.get(block.sort_key)
            if note is not None and isinstance(block, AssistantBlock):
                block.set_note(note)
        if message_id is not None:
            target = self.pane.block(message_id)
            if target is not None:
                target.set_class(highlight, "-search-hit")
                self.pane.anchor(False)
                self.call_after_refresh(self.pane.scroll_to_widget, target, animate=False,
                                        top=True)
