"""The conversation view: a scrolling column of blocks, newest at the bottom.

Only a window of the conversation is mounted: it opens on the newest page, and scrolling to
the top asks the app for older ones (``ChatPane.NeedOlder``), so a 10,000-message conversation
opens as fast as a short one. ``g``/Home in a chat with older pages asks for the first page
instead (``FirstWanted``): the window then starts at the first message and scrolling down
asks for newer pages (``NeedNewer``), ``G``/End for the newest again (``LastWanted``). The
pane never touches the store: the app feeds it messages.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from textual import events
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from tui.core.code_blocks import plain_text
from tui.core.models import Message, MessageStatus, Role, Summary
from tui.core.pricing import Price
from tui.core.tree import Branch
from tui.ui import keys
from tui.ui.widgets import chat_pane_messages as asks
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

# Start fetching older messages when the view is this close (in lines) to the top.
LOAD_OLDER_MARGIN = 3
_REMOVED = "\0removed"


# Sort-key suffix of the "not sent" marker: right after the message it follows.
UNSENT_SUFFIX = "~~unsent"

class ChatPane(OneLayoutPass, VerticalScroll, can_focus=True):
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

    def on_mount(self) -> None:
        self.watch(self, "scroll_y", self._check_scroll_top, init=False)

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

    def set_branches(self, branches: dict[str, Branch]) -> None:
        """Every shown message's place among its siblings (after a new reply or branch)."""
        for block in self.blocks:
            if isinstance(block, MessageBlock):
                block.set_branch(branches.get(block.message.id))

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

    # -- moving between blocks -------------------------------------------------------------

    def _focused_index(self) -> int | None:
        focused = self.screen.focused
        blocks = self.blocks
        for index, block in enumerate(blocks):
            if block is focused:
                return index
        return None

    def _focus_block(self, index: int) -> None:
        blocks = self.blocks
        if not blocks:
            return
        index = max(0, min(index, len(blocks) - 1))
        blocks[index].focus(scroll_visible=False)
        self.scroll_to_widget(blocks[index], animate=False, top=False)

    def action_previous_block(self) -> None:
        index = self._focused_index()
        if index is None:
            self._focus_block(len(self.blocks) - 1)
        elif index == 0:
            self.request_older()
        else:
            self._focus_block(index - 1)

    def action_next_block(self) -> None:
        index = self._focused_index()
        if index is not None and index == len(self.blocks) - 1:
            self.request_newer()
        self._focus_block(len(self.blocks) - 1 if index is None else index + 1)

    def action_first_block(self) -> None:
        """The conversation's first message: straight to the first page when older pages
        exist (one page read, not every page on the way)."""
        if self.has_older and self.conversation_id is not None:
            self.post_message(self.FirstWanted(self.conversation_id))
            return
        self.focus_edge(last=False)

    def action_last_block(self) -> None:
        if self.has_newer and self.conversation_id is not None:
            self.post_message(self.LastWanted(self.conversation_id))
            return
        self.focus_edge(last=True)

    def focus_edge(self, *, last: bool) -> None:
        """Focus the first (or last) mounted block and scroll to that end."""
        blocks = self.blocks
        if not blocks:
            return
        blocks[-1 if last else 0].focus(scroll_visible=False)
        if last:
            self.scroll_end(animate=False, immediate=True)
        else:
            self.scroll_home(animate=False, immediate=True)

    def action_copy_block(self) -> None:
        index = self._focused_index()
        if index is not None:
            self.post_message(self.CopyRequested(self.blocks[index].copy_text()))

    def action_copy_plain(self) -> None:
        """The focused message without its Markdown (emphasis, links, fences)."""
        index = self._focused_index()
        if index is not None:
            block = self.blocks[index]
            text = block.copy_text()
            self.post_message(self.CopyRequested(
                plain_text(text) if isinstance(block, MessageBlock) else text))

    def action_copy_code(self, number: int = 0) -> None:
        """Code block ``number`` (from 1; 0: the last) of the focused reply."""
        index = self._focused_index()
        if index is not None:
            self.post_message(self.CodeCopyRequested(self.blocks[index], number or None))

    def action_copy_mode(self) -> None:
        """Ask for copy mode over the loaded conversation's text, at the focused block."""
        parts: list[str] = []
        line = 0
        focused = self._focused_index()
        for index, block in enumerate(self.blocks):
            if index == focused:
                line = sum(part.count("\n") + 1 for part in parts) + len(parts)
            text = block.copy_text()
            if isinstance(block, MessageBlock):
                text = f"{'You' if block.message.role == 'user' else 'Assistant'}:\n{text}"
            parts.append(text)
        self.post_message(self.CopyModeRequested("\n\n".join(parts), line))

    def on_key(self, event: events.Key) -> None:
        """1-9 on a focused reply: copy its code block with that number."""
        if (event.character and event.character in "123456789"
                and self._focused_index() is not None):
            event.stop()
            self.action_copy_code(int(event.character))

    def action_delete_block(self) -> None:
        """Only stored messages can go (a failed reply's error block is one; notices,
        summaries or an unsent marker are not)."""
        index = self._focused_index()
        if index is None:
            self.notify("Focus a message first (ctrl+o, then j/k).", severity="warning")
            return
        block = self.blocks[index]
        if "~" in block.sort_key:
            self.notify("Only messages can be deleted.", severity="warning")
            return
        self.post_message(self.DeleteRequested(block.sort_key, block.copy_text()))

    def action_pin_block(self) -> None:
        """Pin the focused message (sent with every request) or unpin it."""
        block = self._focused_message()
        if block is not None:
            self.post_message(self.PinRequested(block.message.id, not block.message.pinned))

    def message_block(self, *, role: Role | None = None) -> MessageBlock | None:
        """The focused stored message (of ``role``, if given), else the nearest one above
        it, else the newest one."""
        index = self._focused_index()
        blocks = self.blocks if index is None else self.blocks[:index + 1]
        for block in reversed(blocks):
            if isinstance(block, MessageBlock) and "~" not in block.sort_key and (
                    role is None or block.message.role == role):
                return block
        return None

    def _focused_message(self) -> MessageBlock | None:
        index = self._focused_index()
        if index is None:
            self.notify("Focus a message first (ctrl+o, then j/k).", severity="warning")
            return None
        block = self.blocks[index]
        if not isinstance(block, MessageBlock) or "~" in block.sort_key:
            self.notify("That is not a message.", severity="warning")
            return None
        return block

    def action_edit_block(self) -> None:
        """Edit the focused message of yours and resend it (a new branch from there)."""
        block = self._focused_message()
        if block is None:
            return
        if block.message.role != Role.USER:
            self.notify("Only your own messages can be edited; ctrl+r asks for another "
                        "answer.", severity="warning")
            return
        self.post_message(self.EditRequested(block.message.id, block.message.content))

    def action_branch(self, step: int) -> None:
        """Show the previous (-1) or next (1) version of the focused message."""
        block = self._focused_message()
        if block is None:
            return
        if block.branch is None:
            self.notify("This message has no other versions.", severity="warning")
            return
        self.post_message(self.BranchRequested(block.message.id, step))

    def action_fork_block(self) -> None:
        block = self._focused_message()
        if block is not None:
            self.post_message(self.ForkRequested(block.message.id))

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
