"""What the chat flow's messages change on the main screen outside the chat view: the open
conversation (once a new chat is stored, or retitled), the sidebar's rows, the meter, the
composer and its prompt history, the draft a sent prompt came from, the failures shown.

A plain helper the main screen holds (like BranchActions); the screen's ``@on`` handlers
pass each message here once the chat view has rendered it.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from tui.ui import flow_messages as fm

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen


class FlowEffects:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def conversation_created(self, message: fm.ConversationCreated) -> None:
        """The unsaved chat's first send stored it: it is the open conversation now."""
        screen = self.screen
        if screen.pending_key is not None and screen.pending_key == message.provisional:
            screen.pending_key = None
            screen.conversation = message.conversation
            screen.new_chat = None
            screen.context.refresh()
        screen.refresh_sidebar()

    def user_message_stored(self, message: fm.UserMessageStored) -> None:
        screen = self.screen
        cid = message.conversation_id
        sent = message.sent_text
        if screen.is_open(cid):
            screen.context.append(message.message)
            if sent is not None and screen.composer.full_text == sent:
                screen.composer.clear()
        if sent is not None:
            screen.compose_tools.sent(sent)
            # The draft it came from is spent (the new chat's, for a first message).
            key = None if message.new_chat else cid
            screen.run_worker(partial(screen.drafts.sent, key, sent), group="draft-sent")
        screen.refresh_sidebar()

    def reply_finished(self, message: fm.ReplyFinished) -> None:
        screen = self.screen
        if screen.is_open(message.conversation_id):
            if message.window_changed:
                screen.context.refresh()
            else:
                screen.context.append(message.message)
        # After the reply's last words are painted: the list can wait a frame.
        screen.call_after_refresh(screen.refresh_sidebar)

    def reply_failed(self, message: fm.ReplyFailed) -> None:
        screen = self.screen
        if message.kind not in ("empty", "unseen"):
            screen.failures = {**screen.failures, message.conversation_id: message.error}
            screen.refresh_sidebar()
        if message.message is not None and screen.is_open(message.conversation_id):
            screen.context.refresh()  # the reply was stored with what arrived

    def flow_ended(self, message: fm.FlowEnded) -> None:
        """A reply stopped (Esc, a crash) is stored with what arrived, as interrupted: the
        next request carries it, so the meter reads the chat again. It kept the count from
        before the reply (the preview, F6, said ~300 tokens more)."""
        screen = self.screen
        if ((message.cancelled_reply is not None or message.crash is not None)
                and screen.is_open(message.conversation_id)):
            screen.context.refresh()

    async def title_changed(self, message: fm.TitleChanged) -> None:
        screen = self.screen
        if screen.is_open(message.conversation_id):
            screen.conversation = await asyncio.to_thread(screen.store.get_conversation,
                                                          message.conversation_id)
        screen.refresh_sidebar()

    def context_noted(self, message: fm.ContextNoted) -> None:
        screen = self.screen
        if (message.kind in ("summarized", "window_taken")
                and screen.is_open(message.conversation_id)):
            screen.context.refresh()
