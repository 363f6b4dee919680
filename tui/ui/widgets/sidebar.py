"""The sidebar: a search box over the conversation list.

Typing is debounced: the app is asked to search only once the keys stop for a moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.timer import Timer
from textual.widgets import Input, Label

from tui.ui.widgets.conversation_list import ConversationList

SEARCH_DEBOUNCE = 0.25


class SearchBox(Input):
    BINDINGS = [
        Binding("down", "screen.focus_list", "Results", show=False),
        Binding("escape", "clear", "Clear search"),
    ]

    def action_clear(self) -> None:
        self.value = ""
        self.screen.action_focus_list()


class Sidebar(Vertical):
    class SearchRequested(TextualMessage):
        """The search text settled on ``query`` ("" means: back to the plain list)."""

        def __init__(self, query: str, *, open_first: bool = False) -> None:
            super().__init__()
            self.query = query
            # Enter was pressed before the debounce ran out: open the best hit when ready.
            self.open_first = open_first

    def __init__(self, *, now: Callable[[], datetime] | None = None,
                 page_size: int = 50, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._page_size = page_size
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield SearchBox(placeholder="Search (ctrl+f)", id="search", compact=True)
        yield Label("Archived conversations", id="archived-heading")
        yield ConversationList(now=self._now, page_size=self._page_size, id="conversations")

    @property
    def conversation_list(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def search_box(self) -> SearchBox:
        return self.query_one(SearchBox)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
        query = event.value.strip()
        if not query:
            self._debounce = None
            self.post_message(self.SearchRequested(""))
            return
        self._debounce = self.set_timer(SEARCH_DEBOUNCE, lambda: self._fire(query))

    def _fire(self, query: str) -> None:
        self._debounce = None
        self.post_message(self.SearchRequested(query))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the highlighted (first) hit."""
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
            query = event.value.strip()
            if query:
                self.post_message(self.SearchRequested(query, open_first=True))
                return
        self.conversation_list.open_highlighted()
