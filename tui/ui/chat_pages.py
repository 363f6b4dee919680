"""Reading the open chat's pages from the store, in threads: what the chat view shows.

A chat opens on the newest messages that fill the pane, not on a fixed page: mounting and
laying out blocks nobody sees was most of what opening a chat cost. Older pages are read as
the reader scrolls up; ``g``/Home reads the first page and newer ones follow as the reader
scrolls down; a search hit deep in a long chat opens a window from just before it. No page
read walks the pages on the way (tui.core.tree reads the path's ids, then one page's rows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tui.core import tree
from tui.core.chat import ChatFlow, finish_note
from tui.core.models import Message
from tui.core.store import Store, StoreError

log = logging.getLogger(__name__)

# Messages mounted per "load older" (or "load newer") step.
MESSAGE_PAGE = 50
# A chat opens on as many of its newest messages as can fill the pane, a block taking this
# many rows at the least (margin, header, one line): mounting and laying out blocks nobody
# sees was most of what opening a chat cost. Older ones come a page at a time on scrolling.
MIN_BLOCK_ROWS = 3
# A search hit not among the newest messages opens a window from this many messages before
# it (the path is read forwards from there: the pages on the way are never read).
HIT_LEAD = 2


def estimated_rows(message: Message, width: int) -> int:
    """Rows a message's block takes at the least: margin, header, its lines wrapped at
    ``width`` (wider than the text really gets, and a character per cell: never more)."""
    width = max(width, 1)
    return 2 + sum(max(1, -(-len(line) // width)) for line in message.content.split("\n"))


def filling(messages: list[Message], width: int, height: int, *,
            newest: bool = True) -> list[Message]:
    """The newest (or the oldest) of ``messages`` that fill ``height`` rows, and one more:
    a chat of long replies opens on the few that show, not on a screenful of one-liners."""
    rows = 0
    order = range(len(messages) - 1, -1, -1) if newest else range(len(messages))
    for count, index in enumerate(order, start=1):
        rows += estimated_rows(messages[index], width)
        if rows >= height:
            keep = min(count + 1, len(messages))
            return messages[-keep:] if newest else messages[:keep]
    return messages


@dataclass(frozen=True)
class LoadedChat:
    """A conversation's newest messages as read for the pane (ChatView.load)."""

    conversation_id: str
    messages: list[Message]
    has_older: bool
    summaries: list
    branches: dict[str, tree.Branch]
    message_id: str | None = None
    # The window stops short of the newest message (a hit deep in the chat), whose id
    # (the active leaf) is ``newest``.
    has_newer: bool = False
    newest: str | None = None


class PageReader:
    """The store reads of the chat view (each runs in a thread). It also words why stored
    replies stopped early (``finish_notes``, shared with the view, which adds live ones)."""

    def __init__(self, store: Store, flow: ChatFlow | None,
                 finish_notes: dict[str, str]) -> None:
        self._store = store
        self._flow = flow
        self.finish_notes = finish_notes

    def opening(self, cid: str, message_id: str | None, first: int,
                fill: tuple[int, int] | None = None) -> LoadedChat:
        """What a chat opens on: its newest ``first`` messages, cut to those that fill a
        pane of ``fill`` (width, height); with ``message_id`` (a hit), a window from just
        before it when it is not among them."""
        if message_id is not None:
            try:  # a hit on another branch: open that branch
                tree.select_message(self._store, message_id)
            except StoreError:
                log.info("the message to show is gone", exc_info=True)
        messages = self._store.load_messages(cid, limit=first)
        has_older, has_newer, newest = len(messages) == first, False, None
        if fill is not None:
            shown = filling(messages, *fill)
            if message_id is None or message_id in {m.id for m in shown}:
                has_older = has_older or len(shown) < len(messages)
                messages = shown
        if message_id is not None and message_id not in {m.id for m in messages}:
            window = self._store.load_messages_around(cid, message_id, limit=first,
                                                      lead=HIT_LEAD)
            if window is not None:
                newest = messages[-1].id if messages else None
                messages, has_older, has_newer = window
        self.note_cut_replies(cid, messages)
        return LoadedChat(cid, messages, has_older, self._store.list_summaries(cid),
                          tree.branches(self._store, cid), message_id,
                          has_newer=has_newer, newest=newest if has_newer else None)

    def note_cut_replies(self, cid: str, messages: list[Message]) -> None:
        """Word why stored "length" replies stopped: the output limit, or the window's end
        (runs in the loading thread: it reads the conversation and its window)."""
        cut = [m for m in messages if m.finish_reason == "length"
               and m.id not in self.finish_notes]
        if not cut or self._flow is None:
            return
        conversation = self._store.get_conversation(cid)
        window = self._flow.window_for(conversation)
        for message in cut:
            note = finish_note(message, max_output_tokens=conversation.max_output_tokens,
                               window=window)
            if note:
                self.finish_notes[message.id] = note

    def older(self, cid: str, before_id: str,
              ) -> tuple[list[Message], dict[str, tree.Branch]]:
        """The page before ``before_id`` (scrolling up)."""
        older = self._store.load_messages(cid, limit=MESSAGE_PAGE, before_id=before_id)
        return older, tree.branches(self._store, cid)

    def forward(self, cid: str, after_id: str | None, *, summaries: bool = True,
                limit: int = MESSAGE_PAGE,
                ) -> tuple[list[Message], bool, list, dict[str, tree.Branch]]:
        """The first page (``after_id`` None: g/Home) or the one after ``after_id``
        (scrolling down), whether newer ones follow, the summaries and branches."""
        messages, has_newer = self._store.load_messages_forward(
            cid, limit=limit, after_id=after_id)
        self.note_cut_replies(cid, messages)
        return (messages, has_newer, self._store.list_summaries(cid) if summaries else [],
                tree.branches(self._store, cid))
