"""The composer's drafts, kept in the store per conversation so they survive a restart.

A plain helper of the main screen. Every store call runs in a thread (another instance may
hold the database lock); typing saves at most once per ``DRAFT_DEBOUNCE`` seconds, and a
switch of chats or quitting saves at once. ``None`` is the unsaved new chat's draft. The
images attached to a draft are kept with it, written only when its set of image chips
changes (an image can be megabytes; the text is saved as it is typed).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from textual.timer import Timer

from tui.core.attachments import ImageFile
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
        # What is waiting to be saved: (conversation id or None, text, images by chip).
        self._pending: tuple[str | None, str, dict[str, ImageFile]] | None = None
        # The image chips stored with each draft, as far as this session knows.
        self._stored_images: dict[str | None, frozenset[str]] = {}
        # The draft last loaded or saved: the composer's change event for it saves nothing.
        self._known: tuple[str | None, str] | None = None
        # What this session last saved per chat: older than a message sent from there.
        self._saved: dict[str | None, str] = {}

    async def _call(self, method, *args):  # type: ignore[no-untyped-def]
        try:
            return await asyncio.to_thread(method, *args)
        except StoreError:
            log.exception("draft store call failed")
            return None

    starting = True
    """Until the screen has opened its first chat: what is typed meanwhile belongs to that
    chat (see :meth:`show`), not to the new chat's draft the composer stands for then."""

    def changed(self, key: str | None, text: str) -> None:
        """The composer's text changed: save it once typing pauses."""
        if self.starting:
            return
        if (key, text) == self._known and self._pending is None:
            return
        self._pending = (key, text, self.screen.composer.image_chips)
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
            key, text, images = pending
            self._known = (key, text)
            self._saved[key] = text
            await self._call(self.store.set_draft, key, text)
            if not text.strip():  # the store dropped the draft and its images
                self._stored_images[key] = frozenset()
            elif self._stored_images.get(key, frozenset()) != frozenset(images):
                await self._call(self.store.set_draft_images, key, images)
                self._stored_images[key] = frozenset(images)

    async def switch(self, leaving: tuple[str | None, str] | None,
                     opening: str | None) -> None:
        """Keep the draft of the chat being left ((id, text); None at start-up), and show
        the one of the chat opened."""
        self.show(opening, await self.read(leaving, opening))

    async def read(self, leaving: tuple[str | None, str] | None,
                   opening: str | None) -> tuple[str, dict[str, ImageFile]]:
        """The store's part of ``switch``: keep the leaving draft, read the opening one (its
        text and the images behind its chips)."""
        if leaving is not None:
            self._pending = (*leaving, self.screen.composer.image_chips)
        await self.flush()
        draft = await self._call(self.store.get_draft, opening) or ""
        images = (await self._call(self.store.get_draft_images, opening) or {}) if draft else {}
        return draft, images

    def show(self, opening: str | None, saved: tuple[str, dict[str, ImageFile]]) -> None:
        """The screen's part of ``switch``: the composer holds the opened chat's draft."""
        draft, images = saved
        self._stored_images[opening] = frozenset(images)
        self._known = (opening, draft)
        composer = self.screen.composer
        typed = composer.full_text if self.starting else ""
        if typed.strip():  # typed while the app started: kept, after the chat's own draft
            draft = f"{draft}\n{typed}" if draft.strip() else typed
        composer.set_draft(draft, images)
        orphans = composer.orphan_images()
        if orphans:  # an image the store does not have: say so now, not only on Enter
            names = ", ".join(orphans)
            composer.notify(f"{names}: the image was not kept with the draft. Attach it "
                            "again (alt+a) or delete the chip.",
                            severity="warning", timeout=10)

    async def sent(self, key: str | None, text: str) -> None:
        """A message was stored: the draft it came from is spent (unless it changed since)."""
        if self._pending is not None and self._pending[0] == key:
            if self._pending[1] != text:
                return
            self._pending = None
        stored = await self._call(self.store.get_draft, key)
        # The stored draft is spent when it is the text sent, or one this session saved
        # before it: typed, paused on (saved), cleared and replaced within the debounce, it
        # came back in the next new chat and joined what was typed there. One another
        # window saved stays.
        if stored and (stored == text or stored == self._saved.get(key)):
            await self._call(self.store.clear_draft, key)  # its images go with it
            self._stored_images[key] = frozenset()
            self._saved.pop(key, None)
