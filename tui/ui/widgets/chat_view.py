"""The chat view: the messages of the open conversation, and the replies streaming into it.

It loads a conversation's messages (off the event loop; tui/ui/widgets/chat_view_loading.py),
pages older ones in, and renders the flow's messages (``tui.ui.flow_messages``) for the
conversation it shows: events of a chat in the background only leave their trace in the
stream's bookkeeping, and show on return. It also keeps the live-only notes (truncation
notices, error kinds) that the database does not.

The flow messages are not stopped here: they bubble on to the screen, which updates the rest.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message as TextualMessage

from tui.core.chat import ChatFlow
from tui.core.context import RequestPlan
from tui.core.models import MessageStatus
from tui.core.store import Store, StoreError
from tui.core.code_blocks import CodeBlock
from tui.core.pricing import price_for
from tui.ui import copy_actions
from tui.ui import flow_messages as fm
from tui.ui.reply_streams import ReplyStreams
from tui.ui.chat_pages import MESSAGE_PAGE, PageReader, filling
from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.chat_view_loading import EMPTY_PANE, ChatLoading
from tui.ui.widgets.message_blocks import AssistantBlock

SETTLE_CHECKS = (0.3, 1.0)
"""Seconds after a reply's end at which its block checks that the pane gave it all the room
its text needs (``AssistantBlock.settle_layout``)."""

__all__ = ["EMPTY_PANE", "ChatView"]

log = logging.getLogger(__name__)


# ChatLoading is a plain class placed before Vertical: Vertical's default CSS stays found.
class ChatView(ChatLoading, Vertical):
    class MessagePinned(TextualMessage):
        """The user pinned or unpinned a message of the open conversation."""

        def __init__(self, conversation_id: str, message_id: str, pinned: bool) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.message_id = message_id
            self.pinned = pinned

    def __init__(self, store: Store, streams: ReplyStreams, *, flow: ChatFlow | None = None,
                 id: str | None = None) -> None:
        """``flow`` (optional) words why a stored reply stopped early (finish_note)."""
        super().__init__(id=id)
        self._store = store
        self._streams = streams
        self._flow = flow
        # Why a reply stopped early (finish_note), per message id: live, or worked out on load.
        self._finish_notes: dict[str, str] = {}
        self._reader = PageReader(store, flow, self._finish_notes)
        self.conversation_id: str | None = None
        # Live-only notes per conversation (truncation markers): (sort key, text).
        self._notices: dict[str, list[tuple[str, str]]] = {}
        # FlowFailed.kind per failed message id, for the error hint after a reload.
        self._error_kinds: dict[str, str] = {}
        # The newest message of the open chat known here, while the pane shows a window
        # that stops short of it (after g/Home): what a send says it has seen.
        self._newest_known: str | None = None

    def compose(self) -> ComposeResult:
        pane = ChatPane(id="chat")
        flow = self._flow
        if flow is not None:  # replies' usage lines (u) also say what they cost
            pane.price_lookup = lambda message: price_for(
                message.model or "", message.server, flow.settings.prices)
        yield pane

    @property
    def pane(self) -> ChatPane:
        # Composed once and never replaced; used per streamed token (post_delta).
        pane = self.__dict__.get("_pane")
        if pane is None:
            pane = self._pane = self.query_one(ChatPane)
        return pane

    # -- paging (reading and showing the conversation: ChatLoading) ----------------------

    @on(ChatPane.NeedOlder)
    async def _load_older(self, event: ChatPane.NeedOlder) -> None:
        event.stop()
        if event.conversation_id != self.conversation_id:
            return
        older, branches = await asyncio.to_thread(self._reader.older, event.conversation_id,
                                                  event.before_id)
        if event.conversation_id == self.conversation_id:
            self.pane.prepend(older, has_older=len(older) == MESSAGE_PAGE, branches=branches)

    # -- a window from the first message (g/Home), read forwards -----------------------

    @on(ChatPane.FirstWanted)
    async def _show_first(self, event: ChatPane.FirstWanted) -> None:
        """The first page only: a 2,000-message chat's start is one read away."""
        event.stop()
        cid = event.conversation_id
        if cid != self.conversation_id:
            return
        newest = self.newest_message_id()
        messages, has_newer, summaries, branches = await asyncio.to_thread(
            self._reader.forward, cid, None, limit=self.screenful())
        if cid != self.conversation_id:
            return
        shown = filling(messages, *self._pane_size(), newest=False)
        has_newer = has_newer or len(shown) < len(messages)
        messages = shown
        await self._show_loaded(cid, messages, False, summaries, None, branches=branches,
                                highlight=False, has_newer=has_newer)
        self._newest_known = newest
        self.pane.focus_edge(last=False)

    @on(ChatPane.NeedNewer)
    async def _load_newer(self, event: ChatPane.NeedNewer) -> None:
        event.stop()
        cid = event.conversation_id
        if cid != self.conversation_id:
            return
        newer, has_newer, _, branches = await asyncio.to_thread(
            self._reader.forward, cid, event.after_id, summaries=False)
        if cid != self.conversation_id:
            return
        if not newer and has_newer is False and self.pane.has_newer:
            await self.reload()  # the path changed under the window (another branch)
            return
        self.pane.append_page(newer, has_newer=has_newer, branches=branches)

    @on(ChatPane.LastWanted)
    async def _show_last(self, event: ChatPane.LastWanted) -> None:
        event.stop()
        if event.conversation_id == self.conversation_id:
            await self.reload()
            self.pane.focus_edge(last=True)

    def mark_unsent(self, plan: RequestPlan | None, window: int, strategy: str) -> None:
        """Show where the next request starts when older messages will be left out."""
        if plan is None or not plan.truncated or plan.to_summarize:
            self.pane.set_unsent_marker(None)
            return
        # Ids sort by time: what a summary covers is everything up to its last message.
        covered_up_to = plan.summary.last_message_id if plan.summary else ""
        unsent = [mid for mid in plan.dropped_ids if mid > covered_up_to]
        if not unsent:
            self.pane.set_unsent_marker(None)
            return
        self.pane.set_unsent_marker(
            max(unsent),
            f"▲ {len(unsent)} earlier messages are not sent to the model: they don't fit the "
            f"{window:,}-token window ({strategy}). They stay in the transcript.")

    # -- the flow's messages -------------------------------------------------------------

    def _shown(self, message: fm.FlowMessage) -> bool:
        return message.conversation_id == self.conversation_id

    async def _reload_if_asked(self, message: fm.FlowMessage) -> None:
        """Regenerate, retry and edit change the path (a reply deleted, a new branch):
        reload once, on the first event."""
        live = self._streams.get(message.conversation_id)
        if live is not None and live.reload_first:
            live.reload_first = False
            if self._shown(message):
                await self.reload()

    def post_delta(self, message: fm.ReplyDelta) -> None:
        """Streamed text, handled at once: it is posted per token, and every hop through
        the message queue would show the words later (see ReplyStreams._post)."""
        if self._shown(message):
            self.pane.append_delta(message.message_id, message.text)

    def post_text_ended(self, message: fm.ReplyTextEnded) -> None:
        """The reply's text is complete: shown at once, like a delta, before it is stored."""
        if self._shown(message):
            self.pane.end_text(message.message_id)

    async def text_shown(self, message_id: str) -> None:
        """Until the screen shows the whole text of a reply whose text has ended."""
        block = self.pane.block(message_id)
        if not isinstance(block, AssistantBlock):
            return
        # A short reply can end before its block has mounted (the pane added it a moment
        # ago, and end_text found nothing to finish yet): wait for it, then finish it.
        while not block.is_mounted and block.parent is not None:
            await asyncio.sleep(0.005)
        if block.is_mounted:
            block.end_text()
            await block.markdown.painted()

    @on(fm.ConversationCreated)
    def _created(self, message: fm.ConversationCreated) -> None:
        self.adopt(message.provisional, message.conversation_id)

    @on(fm.UserMessageStored)
    async def _user_message(self, message: fm.UserMessageStored) -> None:
        await self._reload_if_asked(message)  # an edit: the new branch replaces the old
        if self._shown(message):
            if self.pane.has_newer and message.sent_text is not None:
                await self.reload()  # sent while reading the start: back to the newest
            self._saw(message.message.id)
            self.pane.add_message(message.message)
            if message.sent_text is not None:
                # Sent while reading further up: the view goes to the message and follows
                # the reply (it stayed where it was, the reply streaming out of sight).
                self.pane.anchor()
                self.call_after_refresh(self.pane.scroll_end, animate=False, immediate=True)

    @on(fm.ReplyStarted)
    async def _started(self, message: fm.ReplyStarted) -> None:
        await self._reload_if_asked(message)
        if self._shown(message):
            self._saw(message.message.id)
            self.pane.add_message(message.message, live_text="")

    @on(fm.ReplyFinished)
    def _finished(self, message: fm.ReplyFinished) -> None:
        if message.note:
            self._finish_notes[message.message.id] = message.note
        if self._shown(message):
            self.pane.finish_message(message.message)
            block = self.pane.block(message.message.id)
            if message.note and isinstance(block, AssistantBlock):
                block.set_note(message.note)
            if isinstance(block, AssistantBlock):
                for delay in SETTLE_CHECKS:
                    self.set_timer(delay, block.settle_layout)

    @on(fm.ContextNoted)
    async def _noted(self, message: fm.ContextNoted) -> None:
        await self._reload_if_asked(message)
        cid, shown = message.conversation_id, self._shown(message)
        if message.kind == "summarized" and message.summary is not None:
            if shown:
                self.pane.add_summary(message.summary)
            return
        live = self._streams.get(cid)
        if message.replaced_message_id is not None and shown:
            self.pane.remove_key(message.replaced_message_id)
        anchor = live.user_message.id if live and live.user_message else "~"
        notes = self._notices.setdefault(cid, [])
        key = f"{anchor}~notice~{len(notes):03d}"
        notes.append((key, message.text))
        if shown:
            self.pane.add_notice(key, message.text)
        if message.kind == "summary_failed":
            self.notify(message.text, severity="warning")

    @on(fm.ReplyFailed)
    async def _failed(self, message: fm.ReplyFailed) -> None:
        await self._reload_if_asked(message)
        if message.kind == "empty":
            self.notify(message.error, severity="warning")
            return
        if message.kind == "unseen":
            # Another window added messages: show them; nothing was stored or sent.
            self.notify(f"{message.error}. Your text is kept.", severity="warning", timeout=8)
            if self._shown(message):
                await self.reload_in_place()
            return
        if message.message is not None:
            self._error_kinds[message.message.id] = message.kind
            if self._shown(message):
                self.pane.finish_message(message.message, error_kind=message.kind)
        else:
            self._show_failure(message.conversation_id, message.error, message.kind)

    @on(fm.FlowEnded)
    def _ended(self, message: fm.FlowEnded) -> None:
        if message.cancelled_reply is not None and self._shown(message):
            self._show_interrupted(*message.cancelled_reply)
        if message.crash is not None:
            self._show_failure(message.conversation_id, message.crash, "error")

    def _show_failure(self, cid: str, error: str, kind: str) -> None:
        if cid != self.conversation_id:
            self.notify(f"A reply failed in another chat: {error}", severity="error")
            return
        live = self._streams.get(cid)
        anchor = live.user_message.id if live and live.user_message else "~"
        self.pane.add_error(f"{anchor}~error", error, kind)

    def _show_interrupted(self, message_id: str, text: str) -> None:
        """The core stored what arrived as interrupted: show it so (no store read needed)."""
        block = self.pane.block(message_id)
        if isinstance(block, AssistantBlock) and block.live and self.is_attached:
            block.finish(replace(block.message, content=text,
                                 status=MessageStatus.INTERRUPTED))

    # -- copying (what to copy: tui.ui.copy_actions; how: App.copy_to_clipboard) ----------

    def copy(self, focused: object, *, plain: bool = False) -> None:
        """Copy the focused message, else the last reply (``plain``: without Markdown)."""
        copy_actions.copy(self, copy_actions.message_text(self.pane, focused, plain=plain))

    def code_blocks(self, focused: object) -> list[CodeBlock]:
        """The code blocks of the focused reply, else of the last one."""
        return copy_actions.reply_code_blocks(self.pane, focused)

    def copy_code(self, focused: object, number: int | None = None) -> None:
        copy_actions.copy_code(self, self.code_blocks(focused), number)

    @on(ChatPane.CopyRequested)
    def _copy_block(self, event: ChatPane.CopyRequested) -> None:
        event.stop()
        copy_actions.copy(self, event.text)

    @on(ChatPane.CopyModeRequested)
    def _copy_mode(self, event: ChatPane.CopyModeRequested) -> None:
        event.stop()
        from tui.ui.screens.copy_mode import CopyModeScreen  # imported when shown

        self.app.push_screen(CopyModeScreen(event.text, event.line))

    @on(ChatPane.CodeCopyRequested)
    def _copy_code(self, event: ChatPane.CodeCopyRequested) -> None:
        event.stop()
        self.copy_code(event.block, event.number)

    # -- pinning a message ---------------------------------------------------------------

    @on(ChatPane.PinRequested)
    async def _pin(self, event: ChatPane.PinRequested) -> None:
        event.stop()
        cid = self.conversation_id
        if cid is None:
            return
        try:
            await asyncio.to_thread(self._store.set_message_pinned, event.message_id,
                                    event.pinned)
        except StoreError as error:
            log.exception("pinning a message failed")
            self.notify(f"Could not pin the message: {error}", severity="error")
            return
        if cid != self.conversation_id:
            return
        self.pane.show_pinned(event.message_id, event.pinned)
        self.post_message(self.MessagePinned(cid, event.message_id, event.pinned))
        self.notify("Pinned: always sent, never summarized or dropped" if event.pinned
                    else "Unpinned")
