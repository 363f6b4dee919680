"""Follow what another running copy of the app writes to the same database.

A plain helper of the main screen: about once a second it looks at the database files'
times and sizes (``Store.files_stamp``, two ``stat`` calls); only when they changed, or
every ``FULL_CHECK_EVERY`` ticks, a thread asks the store whether another connection
committed (``Store.changed_elsewhere``: SQLite's ``data_version``). When it did, the
sidebar's rows and the open chat are reloaded. While the open chat shows a reply another
window is streaming, each check also asks whether that window's program still runs
(``Store.close_orphaned_replies``): killed, it left the reply ``streaming``, and this window
would have shown it so until it restarted. Handing the check to a thread every second
was the periodic work of an idle app (bench/bench_terminal.py --rows idle: 0.002 cores
before, 0.001-0.002 after, at the resolution of /proc over 10 s).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from tui.core.store import NotFound

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
FULL_CHECK_EVERY = 10
"""Ticks between checks made even though the files look the same: a file system whose
times are coarse (a second, or more) can hide a commit made within one tick."""


class StoreWatch:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._stamp: tuple[int, ...] | None = None
        self._ticks = 0

    def start(self) -> None:
        self.screen.set_interval(POLL_INTERVAL, self._tick)

    def _tick(self) -> None:
        # A plain task, not a Textual worker: a worker posts three state messages to the
        # screen each second, which an idle app should not have to handle.
        if self._busy:  # a check waiting on a lock is not doubled
            return
        self._ticks += 1
        try:
            stamp = self.screen.store.files_stamp()
        except Exception:
            log.exception("looking at the database files failed")
            stamp = None
        if stamp is not None and stamp == self._stamp and self._ticks < FULL_CHECK_EVERY:
            return
        self._stamp, self._ticks = stamp, 0
        self._busy = True
        self._task = asyncio.get_running_loop().create_task(self._check())

    async def _check(self) -> None:
        try:
            # A reply shown as streaming in another window whose program was killed would
            # show "streaming…" until this window restarts: its writer is asked after.
            orphans = self.screen.chat_view.shows_a_stream_from_elsewhere()
            changed = await asyncio.to_thread(self._changed, orphans)
            if changed:
                await self.follow()
        except Exception:  # a failed check must not end the app; the next tick tries again
            if self.screen.store.closed:  # the app quit while the check was in a thread
                log.debug("the database closed during a check", exc_info=True)
            else:
                log.exception("following the database's changes failed")
        finally:
            self._busy = False

    def _changed(self, orphans: bool) -> bool:
        store = self.screen.store
        closed = store.close_orphaned_replies() if orphans else []
        return store.changed_elsewhere() or bool(closed)

    async def follow(self) -> None:
        """Show what another window wrote: the list, and the open chat if it changed."""
        screen = self.screen
        screen.refresh_sidebar()
        conversation = screen.conversation
        if conversation is None or conversation.id in screen.streams:
            return  # a reply streaming here is shown as it arrives; the list is enough
        cid = conversation.id
        store = screen.store
        try:
            fresh, latest = await asyncio.to_thread(
                lambda: (store.get_conversation(cid), store.latest_message_id(cid)))
        except NotFound:
            if screen.is_open(cid):
                await screen.show_new_chat()
            return
        if not screen.is_open(cid):
            return
        if fresh != screen.conversation:
            screen.conversation = fresh
        # A reply another window was streaming when this one loaded the chat shows here as
        # it was then; every change elsewhere may be more of it (or its end): reload.
        if latest != screen.chat_view.newest_message_id() or \
                screen.chat_view.shows_a_stream_from_elsewhere():
            await screen.chat_view.reload_in_place()
            screen.context.refresh()
