"""Which part of a long chat the conversation view (:class:`ChatPane`) has mounted.

Only a window of the conversation is mounted: it opens on the newest page, and scrolling to
the top asks the app for older ones (``ChatPane.NeedOlder``), so a 10,000-message conversation
opens as fast as a short one. ``g``/Home in a chat with older pages asks for the first page
instead (``FirstWanted``): the window then starts at the first message and scrolling down
asks for newer pages (``NeedNewer``), ``G``/End for the newest again (``LastWanted``). The
pane never touches the store: the app feeds it messages.
"""

from __future__ import annotations

from textual.widgets import Static

from tui.core.models import Message, Summary
from tui.core.tree import Branch
from tui.ui.widgets.message_blocks import (
    ChatBlock,
    MessageBlock,
    NoticeBlock,
    SummaryBlock,
    blocks_for,
)

# Start fetching older messages when the view is this close (in lines) to the top.
LOAD_OLDER_MARGIN = 3


class PaneWindow:
    """Mixed into ChatPane: replacing the window, paging older and newer messages in, and
    asking for them when the reader scrolls near an end.

    A plain class, not a ``Widget``, for the reason OneLayoutPass gives (Textual reads
    default CSS along the first ``DOMNode`` base). The state it works on is ChatPane's."""

    conversation_id: str | None
    has_older: bool
    has_newer: bool
    _loading_older: bool
    _loading_newer: bool
    _summaries: dict[str, Summary]

    def on_mount(self) -> None:
        self.watch(self, "scroll_y", self._check_scroll_top, init=False)

    # -- which messages are mounted --------------------------------------------------------

    async def show(self, conversation_id: str | None, messages: list[Message], *,
             summaries: list[Summary] = (), notices: list[tuple[str, str]] = (),
             live: dict[str, str] | None = None, has_older: bool = False,
             has_newer: bool = False, placeholder: str = "",
             branches: dict[str, Branch] | None = None) -> None:
        """Replace everything with ``messages`` (oldest first) and scroll to the bottom (to
        the top with ``has_newer``: the first page, shown after a jump to the start).
        ``branches``: each branched message's place among its siblings (‹ 2/3 ›)."""
        live = live or {}
        self.conversation_id = conversation_id
        self.has_older = has_older
        self.has_newer = has_newer and bool(messages)
        self._loading_older = self._loading_newer = False
        self._summaries = {s.id: s for s in summaries}
        blocks: list[ChatBlock] = [b for m in messages
                                   for b in blocks_for(m, live_text=live.get(m.id))]
        extra: list[ChatBlock] = [SummaryBlock(s) for s in summaries]
        extra += [NoticeBlock(key, text) for key, text in notices]
        if messages:
            extra = [b for b in extra if self._in_window(b.sort_key, messages)]
        blocks = sorted(blocks + extra, key=lambda b: b.sort_key)
        self._mark_branches(blocks, branches or {})
        with self.app.batch_update():
            await self.remove_children()
            if blocks:
                await self.mount_all(blocks)
            elif placeholder:
                await self.mount(Static(placeholder, classes="pane-placeholder"))
        if self.has_newer:
            self.anchor(False)
            self.scroll_home(animate=False, immediate=True)
        else:
            self.anchor()

    def _in_window(self, key: str, messages: list[Message]) -> bool:
        """Whether a block keyed ``key`` belongs among ``messages`` (a summary or notice
        hangs off the message whose id starts its key; one keyed ``~...`` follows them all)."""
        if key < messages[0].id:
            return False
        if not self.has_newer:
            return True
        anchor = key.split("~")[0]
        return bool(anchor) and anchor <= messages[-1].id

    @staticmethod
    def _mark_branches(blocks: list[ChatBlock], branches: dict[str, Branch]) -> None:
        for block in blocks:
            if isinstance(block, MessageBlock):
                block.branch = branches.get(block.message.id)

    def _page_blocks(self, messages: list[Message],
                     branches: dict[str, Branch]) -> list[ChatBlock]:
        """Blocks for a page of ``messages`` not shown yet, with the summaries ending in it."""
        keys = set(self._keys())
        new: list[ChatBlock] = [b for m in messages if m.id not in keys for b in blocks_for(m)]
        self._mark_branches(new, branches)
        if messages:
            first, last = messages[0].id, messages[-1].id
            new += [SummaryBlock(s) for s in self._summaries.values()
                    if first <= s.last_message_id <= last and s.id not in keys]
        return new

    def prepend(self, messages: list[Message], *, has_older: bool,
                branches: dict[str, Branch] | None = None) -> None:
        """Mount older ``messages`` above the current ones, keeping the view where it was."""
        self._loading_older = False
        self.has_older = has_older
        new = self._page_blocks(messages, branches or {})
        if not new:
            return
        new.sort(key=lambda b: b.sort_key)
        current = self.blocks
        anchor_block = current[0] if current else None
        before_height = self.virtual_size.height
        old_scroll = self.scroll_y
        if anchor_block is None:
            self.mount_all(new)
        else:
            self.mount_all(new, before=anchor_block)

        def keep_position() -> None:
            grown = self.virtual_size.height - before_height
            self.scroll_to(y=old_scroll + max(grown, 0), animate=False, immediate=True)

        self.call_after_refresh(keep_position)

    def append_page(self, messages: list[Message], *, has_newer: bool,
                    branches: dict[str, Branch] | None = None) -> None:
        """Mount newer ``messages`` below the window (it started at an older page)."""
        self._loading_newer = False
        self.has_newer = has_newer
        new = self._page_blocks(messages, branches or {})
        if new:
            self.mount_all(sorted(new, key=lambda b: b.sort_key))

    # -- loading older messages ------------------------------------------------------------

    def _check_scroll_top(self, old: float, new: float) -> None:
        # Only moving up counts: the jump to the bottom after opening must not load more.
        if new < old and new <= LOAD_OLDER_MARGIN:
            self.request_older()
        elif new > old and new >= self.max_scroll_y - LOAD_OLDER_MARGIN:
            self.request_newer()

    def on_mouse_scroll_up(self) -> None:
        if self.scroll_y <= LOAD_OLDER_MARGIN:
            self.request_older()

    def on_mouse_scroll_down(self) -> None:
        if self.scroll_y >= self.max_scroll_y - LOAD_OLDER_MARGIN:
            self.request_newer()

    def request_newer(self) -> bool:
        """Ask for the page after the newest mounted message; False when there is none."""
        if not self.has_newer or self._loading_newer or self.conversation_id is None:
            return False
        keys = self._message_keys()
        if not keys:
            return False
        self._loading_newer = True
        self.post_message(self.NeedNewer(self.conversation_id, keys[-1]))
        return True

    def request_older(self) -> bool:
        """Ask for the page before the oldest mounted message; False when there is none."""
        if not self.has_older or self._loading_older or self.conversation_id is None:
            return False
        keys = self._message_keys()
        if not keys:
            return False
        self._loading_older = True
        self.post_message(self.NeedOlder(self.conversation_id, keys[0]))
        return True

    def _message_keys(self) -> list[str]:
        """Sort keys of the mounted blocks that are messages (not notices or markers)."""
        return [b.sort_key for b in self.blocks if b.sort_key and "~" not in b.sort_key]
