"""Which chat the main screen shows: one opened from the list (or at a search hit), the next
or previous one, or a new unsaved chat.

A plain helper the main screen holds (like BranchActions and ComposeTools). Opening reads
everything first (the messages and both drafts, in threads), then changes the screen in one
frame; an open overtaken by a newer one changes nothing. The draft of the chat left behind
is kept (DraftKeeper).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui.core.session import NewConversation, new_conversation_spec
from tui.core.store import NotFound

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen


class ChatOpener:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        # The chat being opened: an open overtaken by a newer one changes nothing.
        self.opening: str | None = None

    def _leaving(self) -> tuple[str | None, str] | None:
        """The draft of the chat on screen, to keep when another opens (None at start-up)."""
        screen = self.screen
        if screen.conversation is None and screen.new_chat is None:
            return None
        return (screen._draft_key(), screen.composer.full_text)

    async def show_new(self, spec: NewConversation | None = None) -> None:
        screen = self.screen
        leaving = self._leaving()
        self.opening = None
        screen.pending_key = None
        screen.new_chat = spec or new_conversation_spec(screen.services.settings)
        screen.conversation = None
        await asyncio.gather(screen.chat_view.show(None), screen.drafts.switch(leaving, None))
        screen.compose_tools.load_history(None)
        screen.context.refresh()

    async def open(self, conversation_id: str, *, message_id: str | None = None) -> None:
        screen = self.screen
        try:
            conversation = await asyncio.to_thread(screen.store.get_conversation,
                                                   conversation_id)
        except NotFound:
            screen.notify("That conversation no longer exists.", severity="warning")
            screen.refresh_sidebar()
            return
        leaving = self._leaving()
        self.opening = conversation.id
        # Everything is read first (the draft's store calls while the messages load), then
        # the screen changes in one frame: the list, the status line, the composer and the
        # chat, instead of a frame for each as its part arrived.
        loaded, draft = await asyncio.gather(
            screen.chat_view.load(conversation.id, message_id=message_id),
            screen.drafts.read(leaving, conversation.id))
        if self.opening != conversation.id:
            return  # another chat was opened meanwhile
        with screen.app.batch_update():
            screen.pending_key = None
            screen.conversation = conversation
            screen.new_chat = None
            screen.drafts.show(conversation.id, draft)
            await screen.chat_view.present(loaded)
        screen.compose_tools.load_history(conversation.id)
        screen.context.opened(conversation.model, long=screen.pane.has_older)

    async def new_chat(self) -> None:
        """A new chat, unless the one on screen is new or empty already."""
        screen = self.screen
        current = screen.conversation
        if current is None and screen.pending_key is None:
            screen.set_focus(screen.composer)  # already on a new chat
            return
        if current is not None and current.id not in screen.streams and (
                await asyncio.to_thread(screen.store.count_messages, current.id)) == 0:
            screen.set_focus(screen.composer)  # already on an empty chat
            return
        await screen.show_new_chat()
        screen.set_focus(screen.composer)

    async def step(self, step: int) -> None:
        """Open the chat ``step`` rows away in the list."""
        screen = self.screen
        # From the chat being opened, if any: a key held down walks the list.
        cid = self.opening or (screen.conversation.id if screen.conversation else None)
        target = await screen.sidebar.conversation_list.neighbour(cid, step)
        if target is not None and target != cid:
            await screen.open_conversation(target)
