"""The composer's drafts, kept in the store per conversation so they survive a restart.

A plain helper of the main screen. Every store call runs in a thread (another instance may
hold the database lock); typing saves at most once per ``DRAFT_DEBOUNCE`` seconds, and a
switch of chats or quitting saves at once. ``None`` is the unsaved new chat's draft.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from textual.timer import Timer

from tui.core.store import Store, StoreError

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)

DRAFT_DEBOUNCE = 0.5


class DraftKeeper:
    def __init__(self, screen: MainScreen, store: Store) -> None:
        self.screen = screen
        self.store = store
        self._timer: Timer | None = None
        # What is waiting to be saved: (conversation id or None, text).
        self._pending: tuple[str | None, str] | None = None
        # The draft last loaded or saved: the composer's change event for it saves nothing.
        self._known: tuple[str | None, str] | None = None

    async def _call(self, method, *args):  # type: ignore[no-untyped-def]
        try:
            return await asyncio.to_thread(method, *args)
        except StoreError:
            log.exception("draft store call failed")
            return None

    def changed(self, key: str | None, text: str) -> None:
        """The composer's text changed: save it once typing pauses."""
        if (key, text) == self._known and self._pending is None:
            return
        self._pending = (key, text)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.screen.set_timer(DRAFT_DEBOUNCE, self._save_later)

    def _save_later(self) -> None:
        self._timer = None
        self.screen.run_worker(self.flush, group="draft-save")

    async def flush(self) -> None:
        """Save what is waiting now (before switching chats or quitting)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        pending, self._pending = self._pending, None
        if pending is not None:
            self._known = pending
            await self._call(self.store.set_draft, *pending)

    async def switch(self, leaving: tuple[str | None, str] | None,
                     opening: str | None) -> None:
        """Keep the draft of the chat being left ((id, text); None at start-up), and show
        the one of the chat opened."""
        self.show(opening, await self.read(leaving, opening))

    async def read(self, leaving: tuple[str | None, str] | None, opening: str | None) -> str:
        """The store's part of ``switch``: keep the leaving draft, read the opening one."""
        if leaving is not None:
            self._pending = leaving
        await self.flush()
        return await self._call(self.store.get_draft, opening) or ""

    def show(self, opening: str | None, draft: str) -> None:
        """The screen's part of ``switch``: the composer holds the opened chat's draft."""
        self._known = (opening, draft)
        self.screen.composer.set_draft(draft)

    async def sent(self, key: str | None, text: str) -> None:
        """A message was stored: the draft it came from is spent (unless it changed since)."""
        if self._pending is not None and self._pending[0] == key:
            if self._pending[1] != text:
                return
            self._pending = None
        stored = await self._call(self.store.get_draft, key)
        if stored == text:
            await self._call(self.store.clear_draft, key)
