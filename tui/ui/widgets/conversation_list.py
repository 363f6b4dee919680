"""The conversation list: an OptionList filled one page at a time.

10,000 conversations never become 10,000 rows up front: a page is fetched through the
``page_loader`` the app provides (backed by Store.list_conversations), in a thread, whenever
the highlight comes near the end of what is loaded. The same list shows search hits while a
search is on.

Each row says how long ago its chat changed ("5m ago"): one timer, set for when the first of
the loaded rows would read differently, writes the rows anew then (they said "just now" for
as long as the app stayed open). It fires once a minute at most, only while a chat younger
than an hour is listed; hourly or daily otherwise.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Callable

from textual.content import Content
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.core.models import Conversation, SearchHit
from tui.ui import keys
from tui.ui.widgets.literal import highlighted_snippet, one_line
from tui.ui.widgets.relative_time import relative_time, seconds_until_change

PAGE_SIZE = 50
# Fetch the next page when the highlight is this close to the last loaded row.
PREFETCH_MARGIN = 10
# Looking for a chat that is not among the loaded rows (the next / previous chat of one
# opened from a search hit) reads at most this many more pages.
MAX_FIND_PAGES = 10
# After the moment a row's time reads differently, so the clock has passed it for sure.
RETIME_SLACK = 0.5

PageLoader = Callable[[int, int], list[Conversation]]


def display_title(conversation: Conversation) -> str:
    return one_line(conversation.title).strip() or "New chat"


class ConversationList(OptionList):
    BINDINGS = keys.LIST

    searching: reactive[bool] = reactive(False, repaint=False, bindings=True)
    """The list shows search hits (Esc clears them), not the conversations."""
    archived_view: reactive[bool] = reactive(False, repaint=False, bindings=True)
    """The list shows the archived conversations (the sidebar's mode): its keys say so."""

    def footer_label(self, action: str, description: str) -> str:
        """What the footer calls a key of this list: in the archived view, ``a`` takes a
        chat out of the archive and ``A`` goes back to the chats."""
        if self.archived_view:
            return {"screen.archive": "Unarchive",
                    "toggle_archived": "Show chats"}.get(action, description)
        return description

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc clears a search only while the list shows its hits (else it is free for the
        screen: stopping a reply)."""
        if action == "clear_search":
            return self.searching
        return True

    def action_clear_search(self) -> None:
        """Esc in the hits: the search goes, as Esc in its box does, and the list is back."""
        self.post_message(self.SearchCleared())

    class SearchCleared(TextualMessage):
        """The user asked to leave the search from its hits."""

    class ArchivedToggled(TextualMessage):
        """The user asked to switch between active and archived conversations."""

    class Open(TextualMessage):
        """Open ``conversation_id`` (at ``message_id`` for a search hit)."""

        def __init__(self, conversation_id: str, message_id: str | None = None) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.message_id = message_id

    def __init__(self, *, now: Callable[[], datetime] | None = None,
                 page_size: int = PAGE_SIZE, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.page_size = page_size
        self.page_loader: PageLoader | None = None
        self.current_id: str | None = None
        self._highlight_on_reload: str | None = None
        self._conversations: list[Conversation] = []
        self._hits: list[SearchHit] = []
        self._exhausted = False
        # Bumped when the rows are replaced: a page read for the old rows is dropped.
        self._generation = 0
        self._paging: asyncio.Task[bool] | None = None
        self._retime_timer: Timer | None = None

    # -- rows --------------------------------------------------------------------------------

    def _row(self, conversation: Conversation) -> Content:
        title_style = "bold" if conversation.id == self.current_id else ""
        marker = "★ " if conversation.pinned else ""
        when = relative_time(conversation.updated, self.now())
        return Content.assemble(
            (marker, "$accent"), (display_title(conversation), title_style), "\n",
            (when, "$text-muted"))

    def _hit_row(self, hit: SearchHit) -> Content:
        """Title on the first line; the matching text, match highlighted, on the second."""
        if hit.message_id is None:
            title = highlighted_snippet(hit.snippet or display_title(hit.conversation))
            return Content.assemble(title.stylize("bold"), "\n", ("in the title", "$text-muted"))
        title = Content.assemble((display_title(hit.conversation), "bold"))
        return Content.assemble(title, "\n", highlighted_snippet(hit.snippet))

    # -- listing -----------------------------------------------------------------------------

    @property
    def conversations(self) -> list[Conversation]:
        """What is loaded so far (list mode)."""
        return list(self._conversations)

    def reload_count(self, *, keep_count: bool = True) -> int:
        """How many rows a reload reads: the pages loaded so far, or just the first."""
        return max(self.page_size, len(self._conversations)) if keep_count else self.page_size

    def show_rows(self, conversations: list[Conversation], count: int) -> None:
        """Show the first ``count`` rows, read elsewhere (a thread), keeping the highlight."""
        highlighted = self.highlighted_id
        if self._highlight_on_reload is not None and any(
                c.id == self._highlight_on_reload for c in conversations):
            # The open chat was not listed when it was opened: the highlight goes to it,
            # not stays on the row it was on (where `d` would delete another chat).
            highlighted, self._highlight_on_reload = self._highlight_on_reload, None
        self.searching = False
        self._generation += 1
        self._conversations = list(conversations)
        self._exhausted = len(self._conversations) < count
        options = [Option(self._row(c), id=c.id) for c in self._conversations]
        if not self._showing(options):
            # Unchanged rows (a reply's end, another window's poll) cost no re-layout.
            self.set_options(options)
        self._restore_highlight(highlighted)
        self._schedule_retime()

    def _schedule_retime(self) -> None:
        """One timer, for when the first loaded row's time would read differently."""
        if self._retime_timer is not None:
            self._retime_timer.stop()
            self._retime_timer = None
        if self.searching or not self._conversations:
            return
        now = self.now()
        waits = [wait for c in self._conversations
                 if (wait := seconds_until_change(c.updated, now)) is not None]
        if waits:
            self._retime_timer = self.set_timer(min(waits) + RETIME_SLACK, self._retime)

    def _retime(self) -> None:
        """Write anew the rows whose time reads differently now."""
        self._retime_timer = None
        if self.searching:
            return
        now = self.now()
        for index, conversation in enumerate(self._conversations):
            shown = self.get_option_at_index(index).prompt
            when = relative_time(conversation.updated, now)
            if not isinstance(shown, Content) or not shown.plain.endswith("\n" + when):
                self.replace_option_prompt_at_index(index, self._row(conversation))
        self._schedule_retime()

    def _showing(self, options: list[Option]) -> bool:
        """Whether the list shows exactly these rows already (ids, text and styles)."""
        if self.option_count != len(options):
            return False
        for index, option in enumerate(options):
            shown = self.get_option_at_index(index)
            if (shown.id != option.id or not isinstance(shown.prompt, Content)
                    or shown.prompt.plain != option.prompt.plain
                    or shown.prompt.spans != option.prompt.spans):
                return False
        return True

    def _restore_highlight(self, conversation_id: str | None) -> None:
        for wanted in (conversation_id, self.current_id):
            if wanted is None:
                continue
            for index, conversation in enumerate(self._conversations):
                if conversation.id == wanted:
                    self.highlighted = index
                    return
        self.highlighted = 0 if self._conversations else None

    async def load_next_page(self) -> bool:
        """Append the next page (read in a thread); False when everything is loaded. Calls
        made while a page is being read wait for that one instead of reading it twice."""
        if self._paging is None or self._paging.done():
            self._paging = asyncio.ensure_future(self._read_next_page())
        return await asyncio.shield(self._paging)

    async def _read_next_page(self) -> bool:
        if self.searching or self._exhausted or self.page_loader is None:
            return False
        generation, offset = self._generation, len(self._conversations)
        page = await asyncio.to_thread(self.page_loader, self.page_size, offset)
        if generation != self._generation or self.searching or not self.is_attached:
            return False  # the rows were replaced meanwhile (or the app quit): it is stale
        known = {c.id for c in self._conversations}
        fresh = [c for c in page if c.id not in known]
        self._exhausted = len(page) < self.page_size
        self._conversations.extend(fresh)
        self.add_options(Option(self._row(c), id=c.id) for c in fresh)
        self._schedule_retime()
        return bool(fresh)

    def _prefetch(self) -> None:
        self.run_worker(self.load_next_page, group="page", exit_on_error=False)

    async def ensure_loaded(self, conversation_id: str) -> int | None:
        """The row index of ``conversation_id``, reading up to MAX_FIND_PAGES more pages
        until it shows up (None: not among them)."""
        for _ in range(MAX_FIND_PAGES + 1):
            for index, conversation in enumerate(self._conversations):
                if conversation.id == conversation_id:
                    return index
            if not await self.load_next_page():
                return None
        return None

    def set_current(self, conversation_id: str | None) -> None:
        """Mark the open conversation (bold, highlighted)."""
        previous, self.current_id = self.current_id, conversation_id
        if self.searching:
            return
        for index, conversation in enumerate(self._conversations):
            if conversation.id in (previous, conversation_id):
                self.replace_option_prompt_at_index(index, self._row(conversation))
        # Only among the loaded rows: a chat just created (a new chat's first send, a fork)
        # shows up with the next reload, which highlights it then; paging through
        # everything to find it would block.
        self._highlight_on_reload = conversation_id
        for index, conversation in enumerate(self._conversations):
            if conversation.id == conversation_id:
                self.highlighted = index
                self._highlight_on_reload = None
                break

    async def neighbour(self, conversation_id: str | None, step: int) -> str | None:
        """The conversation ``step`` rows away from ``conversation_id`` in list order."""
        if conversation_id is None:
            return self._conversations[0].id if self._conversations else None
        index = await self.ensure_loaded(conversation_id)
        if index is None:
            return self._conversations[0].id if self._conversations else None
        target = index + step
        if target >= len(self._conversations):
            await self.load_next_page()
        if 0 <= target < len(self._conversations):
            return self._conversations[target].id
        return None

    @property
    def highlighted_id(self) -> str | None:
        if self.highlighted is None:
            return None
        if self.searching:
            if self.highlighted < len(self._hits):
                return self._hits[self.highlighted].conversation.id
            return None
        if self.highlighted < len(self._conversations):
            return self._conversations[self.highlighted].id
        return None

    # -- search ------------------------------------------------------------------------------

    def show_hits(self, hits: list[SearchHit]) -> None:
        self.searching = True
        self._generation += 1
        self._schedule_retime()  # stops it: hits say no time
        self._hits = list(hits)
        if hits:
            self.set_options(Option(self._hit_row(h)) for h in hits)
            self.highlighted = 0
        else:
            self.set_options([Option(Content("No matches"), disabled=True)])

    def open_highlighted(self) -> None:
        """Post ``Open`` for the highlighted row (also when called from the search box)."""
        index = self.highlighted
        if index is None:
            return
        if self.searching:
            if index < len(self._hits):
                hit = self._hits[index]
                self._post_open(hit.conversation.id, hit.message_id)
        elif index < len(self._conversations):
            self._post_open(self._conversations[index].id)

    def _post_open(self, conversation_id: str, message_id: str | None = None) -> None:
        # Sent as from this list: posted while the sidebar is the active pump, it would
        # otherwise count as the sidebar's and stop bubbling there.
        self.post_message(self.Open(conversation_id, message_id).set_sender(self))

    def action_toggle_archived(self) -> None:
        self.post_message(self.ArchivedToggled())

    # -- events ------------------------------------------------------------------------------

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if (highlighted is not None and not self.searching
                and highlighted >= len(self._conversations) - PREFETCH_MARGIN):
            self._prefetch()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open_highlighted()
