"""Sending, regenerating and retrying: what the main screen starts when the user asks.

A plain helper the main screen holds (like ConversationActions): it checks what would make a
request pointless (no set-up, a reply already streaming, a message too long for any window)
and starts the flow in a reply stream. Every request says what the screen has shown
(``Seen``), so one never carries messages another window added meanwhile. An unsaved chat's
first send runs under a provisional key until the core stores the conversation.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING

from tui.core.attachments import ImageFile
from tui.core.meter import MeterReading
from tui.core.models import Role
from tui.core.services import Services, needs_setup
from tui.core.session import new_conversation_spec
from tui.core.store import StoreError

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)


def too_long_notice(refusal: MeterReading) -> str:
    """Why a draft can't be sent, naming what else fills the window: pinned messages are
    always sent, so a short message after many pins is refused for them, not for itself."""
    excess = max(refusal.tokens - refusal.available, 1)
    parts, fixes = [], []
    if refusal.pinned:
        plural = "s" if refusal.pinned > 1 else ""
        parts.append(f"the {refusal.pinned} pinned message{plural} "
                     f"({refusal.pinned_tokens:,} tokens)")
        fixes.append("unpin some (ctrl+o, then p on a pinned message)")
    if refusal.system_tokens * 4 >= refusal.tokens:  # a big part of it: worth naming
        parts.append(f"the system prompt ({refusal.system_tokens:,} tokens)")
        fixes.append("shorten the system prompt (F4)")
    fixes += ["shorten the message", "pick a model with a larger window (F3)"]
    advice = ", ".join(fixes[:-1]) + " or " + fixes[-1]
    if not parts:
        left_out = ", even with the older messages left out" if refusal.earlier else ""
        return (f"This message is {excess:,} tokens too long for the model's window"
                f"{left_out}. {advice[0].upper()}{advice[1:]}. Your text is kept.")
    return (f"This message with {' and '.join(parts)} is {excess:,} tokens too long for "
            f"the model's window, even with the other messages left out: {advice}. "
            "Your text is kept.")


class Sender:
    def __init__(self, screen: MainScreen, services: Services) -> None:
        self.screen = screen
        self.services = services
        self._keys = itertools.count(1)

    def _streaming_here(self) -> bool:
        screen = self.screen
        if screen.conversation is not None:
            return screen.conversation.id in screen.streams
        return screen.pending_key is not None and screen.pending_key in screen.streams

    def _ready_to_send(self, kept: str = "") -> bool:
        """A server is set up and no reply streams in this chat; otherwise says why."""
        if needs_setup(self.services.settings):
            self.screen.notify("Set an API key or a server URL first (see the panel above).",
                               severity="warning")
            return False
        if self._streaming_here():
            self.screen.notify("A reply is still streaming in this chat: press Esc to stop "
                               f"it, or wait.{kept}", severity="warning")
            return False
        return True

    async def send(self, text: str, images: list[ImageFile] | None = None) -> None:
        """``images``: attached to the message (tui.core.attachments)."""
        screen = self.screen
        if not self._ready_to_send(" Your draft is kept."):
            return
        await screen.context.encoding.before_send(text)
        refusal = screen.context.refusal(text)
        if refusal is not None:
            screen.notify(too_long_notice(refusal), severity="error", timeout=10)
            return
        flow = self.services.flow
        if screen.conversation is None:
            spec = screen.new_chat or new_conversation_spec(self.services.settings)
            key = screen.pending_key = f"new-chat-{next(self._keys)}"
            screen.chat_view.conversation_id = key  # its events show here until it is stored
            screen.streams.start(key, flow.send(spec, text, images=images), sent_text=text,
                                 new_chat=True)
            return
        cid = screen.conversation.id
        screen.clear_failure(cid)
        screen.streams.start(cid, flow.send(cid, text, seen=screen.seen(), images=images),
                             sent_text=text)

    async def edit(self, message_id: str, text: str) -> None:
        """Send ``text`` in place of the earlier message ``message_id``: a new branch."""
        screen = self.screen
        if screen.conversation is None or not self._ready_to_send():
            return
        cid = screen.conversation.id
        screen.clear_failure(cid)
        screen.streams.start(cid, self.services.flow.edit(cid, message_id, text,
                                                          seen=screen.seen()),
                             reload_first=True)

    async def regenerate(self) -> None:
        """Ask again for the last reply; one that did not complete is retried instead."""
        screen = self.screen
        conversation = screen.conversation
        if conversation is None:
            screen.notify("Nothing to regenerate yet.", severity="warning")
            return
        cid = conversation.id
        if cid in screen.streams:
            screen.notify("A reply is still streaming: press Esc to stop it first.",
                          severity="warning")
            return
        try:
            tail = await asyncio.to_thread(self.services.store.load_messages, cid, limit=1)
        except StoreError as error:
            log.exception("loading the last message failed")
            screen.notify(str(error), severity="error")
            return
        if not tail:
            screen.notify("Nothing to regenerate yet.", severity="warning")
            return
        last = tail[-1]
        # A reply that did not complete is retried (replaced, never sent back to the model).
        retry = last.role == Role.USER or last.needs_retry
        flow = self.services.flow
        screen.clear_failure(cid)
        seen = screen.seen()
        screen.streams.start(cid, flow.retry(cid, seen=seen) if retry
                             else flow.regenerate(cid, seen=seen), reload_first=True)
