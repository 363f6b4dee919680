"""The conversation tree in the app: edit and resend, switch versions, fork, delete a branch.

A plain helper the main screen holds (like ConversationActions and Sender). Each action
acts on one message of the open chat: the pane's keys name the focused one; the palette's
commands take the focused message, else the newest that fits. Store calls run in threads.
While a reply streams in the chat, its path is left alone (the reply is being written at
its end).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Callable

from tui.core import tree
from tui.core.models import Role
from tui.core.services import Services
from tui.core.store import StoreError
from tui.ui.widgets.literal import one_line

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)


class BranchActions:
    def __init__(self, screen: MainScreen, services: Services) -> None:
        self.screen = screen
        self.services = services
        self.store = services.store

    def _open_idle(self) -> str | None:
        """The open chat's id when its path may change now (no reply streaming into it)."""
        conversation = self.screen.conversation
        if conversation is None:
            return None
        if conversation.id in self.screen.streams:
            self.screen.notify("A reply is still streaming: press Esc to stop it first.",
                               severity="warning")
            return None
        return conversation.id

    async def _call(self, what: str, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(call, *args)
        except StoreError as error:
            log.exception("%s failed", what)
            self.screen.notify(f"Could not {what}: {error}", severity="error")
            return None

    async def _path_changed(self, cid: str, *, focus: str | None = None) -> None:
        """Show the chat's new active path (at ``focus``); the meter and list follow."""
        if not self.screen.is_open(cid):
            return
        view = self.screen.chat_view
        await view.show(cid, message_id=focus, highlight=False)
        if focus is not None:
            block = self.screen.pane.block(focus)
            if block is not None:
                block.focus(scroll_visible=False)
        self.screen.context.refresh()
        self.screen.refresh_sidebar()

    # -- the actions ---------------------------------------------------------------------

    def edit(self, message_id: str, text: str) -> None:
        """Open the editor with the message's text; sending it makes a new branch."""
        if self._open_idle() is None:
            return

        async def done(edited: str | None) -> None:
            if edited is not None and edited != text:
                await self.screen.sender.edit(message_id, edited)
            elif edited is not None:
                self.screen.notify("Unchanged: nothing was sent. ctrl+r asks for another "
                                   "answer.", severity="warning")

        from tui.ui.screens.edit_message import EditMessageScreen  # imported when shown

        self.screen.app.push_screen(EditMessageScreen(text), done)

    async def switch(self, message_id: str, step: int) -> None:
        """Show the previous (-1) or next (1) version of a message, and what follows it."""
        cid = self._open_idle()
        if cid is None:
            return
        target = await self._call("switch branches", tree.switch_sibling, self.store,
                                  message_id, step)
        if target is None:
            return
        await self._path_changed(cid, focus=target)

    async def fork(self, message_id: str) -> None:
        """Copy the chat up to the message into a new chat, and open it."""
        cid = self._open_idle()
        if cid is None:
            return
        copy = await self._call("fork the chat", tree.fork, self.store, cid, message_id)
        if copy is None:
            return
        await self.screen.open_conversation(copy.id)
        self.screen.refresh_sidebar()
        self.screen.notify(f"Forked into “{one_line(copy.title)[:60]}”")

    async def delete(self, message_id: str, text: str) -> None:
        """Delete a message and the branch below it, after asking."""
        cid = self._open_idle()
        if cid is None:
            return
        size = await self._call("delete the message", tree.branch_size, self.store,
                                message_id)
        if size is None:
            return
        preview = one_line(text)[:60] or "(empty)"
        below = size - 1
        extra = (f" and the {below} message{'s' if below != 1 else ''} below it"
                 if below else "")

        async def done(yes: bool | None) -> None:
            if not yes or not self.screen.is_open(cid):
                return
            if await self._call("delete the message", tree.delete_branch, self.store,
                                message_id) is None:
                return
            await self._path_changed(cid)
            self.screen.notify("Message deleted" if not below else f"{size} messages deleted")

        from tui.ui.screens.dialogs import ConfirmScreen  # imported when shown

        self.screen.app.push_screen(
            ConfirmScreen(f"Delete this message{extra}? “{preview}”\nThey leave the chat "
                          "and what is sent to the model. This cannot be undone."),
            done)

    # -- from the palette: the focused message, else the newest that fits --------------

    def _target(self, *, role: Role | None = None, branched: bool = False):
        pane = self.screen.pane
        block = pane.message_block(role=role)
        if branched and (block is None or block.branch is None):
            block = next((b for b in reversed(pane.blocks)
                          if getattr(b, "branch", None) is not None), None)
        if block is None:
            self.screen.notify("No message to do that with.", severity="warning")
        return block

    def edit_target(self) -> None:
        block = self._target(role=Role.USER)
        if block is None:
            return
        if block.message.role != Role.USER:
            self.screen.notify("Only your own messages can be edited.", severity="warning")
            return
        self.edit(block.message.id, block.message.content)

    async def switch_target(self, step: int) -> None:
        block = self._target(branched=True)
        if block is not None:
            await self.switch(block.message.id, step)

    async def fork_target(self) -> None:
        block = self._target()
        if block is not None:
            await self.fork(block.message.id)

    async def delete_target(self) -> None:
        block = self._target()
        if block is not None:
            await self.delete(block.message.id, block.copy_text())
