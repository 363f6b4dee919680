"""The sidebar: a search box over the conversation list, and the list's three modes.

The sidebar owns its mode (``list``, ``archived`` or ``search``) as a reactive and everything
that follows from it: which rows the list shows, the archived heading, whether a change in the
store refreshes the rows. It follows the screen's open conversation by watching it.

Nothing here waits on SQLite on the event loop: rows are read in threads. Typing is debounced
briefly (a burst of keys is one query); each query runs on the search's own connection, and a
newer one cancels it, so only the newest query's hits are shown and a slow stale query never
holds the store while a chat opens.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Label

from tui.core.models import Conversation, SearchHit
from tui.core.store import Store, StoreError
from tui.ui import keys
from tui.ui.widgets.conversation_list import ConversationList

log = logging.getLogger(__name__)

# Long enough to make one query of a burst of keys (a paste, key repeat), short enough that
# the hits follow the last key within a frame or two.
SEARCH_DEBOUNCE = 0.05
SEARCH_LIMIT = 100

SidebarMode = Literal["list", "archived", "search"]


class SearchBox(Input):
    BINDINGS = keys.SEARCH

    def action_focus_results(self) -> None:
        self.screen.set_focus(self.query_ancestor(Sidebar).conversation_list)

    def action_clear(self) -> None:
        self.value = ""
        self.action_focus_results()


class Sidebar(Vertical):
    mode: reactive[SidebarMode] = reactive("list", init=False)

    def __init__(self, store: Store, *, now: Callable[[], datetime] | None = None,
                 page_size: int = 50, id: str | None = None) -> None:
        super().__init__(id=id)
        self._store = store
        self._now = now
        self._page_size = page_size
        self._debounce: Timer | None = None
        # Seconds of quiet after a key before its query runs (see SEARCH_DEBOUNCE).
        self.search_debounce = SEARCH_DEBOUNCE
        self.searcher = store.searcher()
        # The mode to go back to when the search box is cleared.
        self._list_mode: SidebarMode = "list"

    def compose(self) -> ComposeResult:
        yield SearchBox(placeholder="Search (ctrl+f)", id="search", compact=True)
        yield Label("Archived conversations", id="archived-heading")
        yield ConversationList(now=self._now, page_size=self._page_size, id="conversations")

    def on_mount(self) -> None:
        self.conversation_list.page_loader = self._load_page
        self._reload_rows(self._page_size, False)
        if hasattr(self.screen, "conversation"):
            self.watch(self.screen, "conversation", self._follow_conversation)

    @property
    def conversation_list(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def search_box(self) -> SearchBox:
        return self.query_one(SearchBox)

    def _load_page(self, limit: int, offset: int) -> list[Conversation]:
        return self._store.list_conversations(limit=limit, offset=offset,
                                              archived=self.mode == "archived")

    def _follow_conversation(self, conversation: Conversation | None) -> None:
        self.conversation_list.set_current(conversation.id if conversation else None)

    # -- modes -------------------------------------------------------------------------

    def watch_mode(self, old: SidebarMode, new: SidebarMode) -> None:
        self.set_class(new == "archived", "-archived")
        self.conversation_list.archived_view = new == "archived"
        if new != "search":
            self._list_mode = new
            self._reload_rows(self.conversation_list.reload_count(keep_count=False),
                              new == "archived")

    def toggle_archived(self) -> None:
        self.search_box.value = ""
        self.mode = "list" if self.mode == "archived" else "archived"

    @on(ConversationList.SearchCleared)
    def _search_cleared(self, event: ConversationList.SearchCleared) -> None:
        event.stop()
        self.search_box.action_clear()

    @on(ConversationList.ArchivedToggled)
    def _toggle_archived(self, event: ConversationList.ArchivedToggled) -> None:
        event.stop()
        self.toggle_archived()

    def refresh_rows(self) -> None:
        """The store changed (a new message, a title, a pin): show it.

        Search results stay as they are: a reply finishing in the background must not wipe
        the hits the user is reading.
        """
        if self.mode == "search":
            return
        lists = self.query(ConversationList)
        if not lists:
            # Going away: as the app quits, Textual removes a widget's children first, and a
            # change saved just before (the system prompt) lands here after the list went.
            return
        self._reload_rows(lists.first().reload_count(), self.mode == "archived")

    @work(exclusive=True, group="rows", thread=True)
    def _reload_rows(self, count: int, archived: bool) -> None:
        """Read the rows off the event loop (another instance may hold the write lock)."""
        try:
            rows = self._store.list_conversations(limit=count, offset=0, archived=archived)
        except StoreError as error:
            log.exception("listing conversations failed")
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show_rows, rows, count, archived)

    def _show_rows(self, rows: list[Conversation], count: int, archived: bool) -> None:
        if self._widgets_gone():
            return
        if self.mode != "search" and (self.mode == "archived") == archived:
            self.conversation_list.show_rows(rows, count)

    def _widgets_gone(self) -> bool:
        """Rows read in a thread can arrive as the app quits, its widgets already gone."""
        return not self.is_attached or not self.query(ConversationList)

    # -- search ------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
        self.searcher.cancel()  # whatever runs is stale now
        query = event.value.strip()
        if not query:
            self._debounce = None
            self.workers.cancel_group(self, "search")
            self.mode = self._list_mode
            return
        self._debounce = self.set_timer(self.search_debounce, lambda: self._fire(query))

    def _fire(self, query: str, open_first: bool = False) -> None:
        self._debounce = None
        self._run_search(query, open_first)

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the highlighted (first) hit."""
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
            query = event.value.strip()
            if query:
                self._fire(query, open_first=True)
                return
        self.conversation_list.open_highlighted()

    @work(exclusive=True, group="search", thread=True)
    def _run_search(self, query: str, open_first: bool) -> None:
        try:
            hits = self.searcher.search(query, limit=SEARCH_LIMIT, include_archived=True)
            if hits is None:
                return  # cancelled: a newer query follows
        except StoreError as error:
            log.exception("search failed")
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show_hits, query, hits, open_first)

    def on_unmount(self) -> None:
        self.searcher.close()

    def _show_hits(self, query: str, hits: list[SearchHit], open_first: bool) -> None:
        if self._widgets_gone() or not self.query(SearchBox):
            return
        if self.search_box.value.strip() != query:
            return  # typing went on: a newer search is coming
        self.mode = "search"
        self.conversation_list.show_hits(hits)
        if open_first and hits:
            self.conversation_list.open_highlighted()
