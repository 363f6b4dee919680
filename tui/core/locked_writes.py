"""Writes a streaming reply makes from the event loop, when another program may hold the
database's write lock (an import, another window's long write, a `sqlite3` shell).

SQLite waits for that lock up to the connection's busy timeout (5 s), and a wait on the
event loop freezes the app for as long: no keys, no frames. Then the write failed and the
reply with it, though the server was still sending (a pty, the lock held 6.5 s while a
reply streamed at 20 tok/s: the screen froze, then the reply stopped, "interrupted", with
"database is locked"). A periodic save of the text so far is skipped while the lock is
held (the next one, or the last, stores it); the reply's last write waits for the lock
without blocking the loop, trying again every RETRY_EVERY seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from tui.core.store_errors import DatabaseLocked

__all__ = ["RETRY_EVERY", "Attempt", "save_now_or_later", "save_unless_locked", "try_write",
           "write_when_free"]

log = logging.getLogger(__name__)

R = TypeVar("R")

RETRY_EVERY = 0.1
"""Seconds between tries of a write that found the database locked."""
SIDE_PATIENCE = 60.0
"""Seconds a side record (a title's or a summary's usage) waits for the lock in a task of
its own (:func:`save_now_or_later`) before it is given up."""

_later: set[asyncio.Task[object]] = set()
"""Writes left to finish once the lock is free (kept here: a task nothing refers to may be
collected before it has run)."""


class LockedStore(Protocol):
    """What these writes need of a store (``StoreBase``): calls that give up on another
    program's lock after ``seconds``."""

    def waiting_at_most(self, seconds: float) -> AbstractContextManager[None]: ...


@dataclass
class Attempt(Generic[R]):
    """A write tried once: whether it ran (the lock was free), and what it returned."""

    done: bool
    value: R | None = None


def try_write(store: LockedStore, write: Callable[[], R]) -> Attempt[R]:
    """Run ``write`` if the database's write lock is free now (then the caller may say it
    waits, and :func:`write_when_free`)."""
    try:
        with store.waiting_at_most(0):
            return Attempt(True, write())
    except DatabaseLocked:
        return Attempt(False)


def save_unless_locked(store: LockedStore, write: Callable[[], object]) -> bool:
    """Run ``write`` if the database's write lock is free now; whether it ran."""
    if try_write(store, write).done:
        return True
    log.info("the database is locked by another program: this save waits for the next")
    return False


async def write_when_free(store: LockedStore, write: Callable[[], R], *,
                          patience: float) -> R:
    """Run ``write`` once the database's write lock is free, waiting ``patience`` seconds
    at most (then DatabaseLocked), without blocking the event loop meanwhile."""
    deadline = time.monotonic() + patience
    attempt = try_write(store, write)
    if not attempt.done:
        log.info("the database is locked by another program: waiting to store")
        while not attempt.done:
            if time.monotonic() >= deadline:  # a last try: its DatabaseLocked is the caller's
                with store.waiting_at_most(0):
                    return write()
            await asyncio.sleep(RETRY_EVERY)
            attempt = try_write(store, write)
        log.info("the database is free again: stored")
    return attempt.value  # type: ignore[return-value]


def save_now_or_later(store: LockedStore, write: Callable[[], object], *,
                      patience: float) -> bool:
    """Run ``write`` now if the database's write lock is free, else in a task of its own
    once it is (``patience`` seconds at most): for a write in a path that must not wait,
    such as a reply being cancelled. Whether it ran now."""
    if save_unless_locked(store, write):
        return True

    async def later() -> None:
        try:
            await write_when_free(store, write, patience=patience)
        except Exception:  # the app runs on; the row stays as last saved
            log.warning("a write waiting for the database's lock was given up", exc_info=True)

    task = asyncio.get_running_loop().create_task(later())
    _later.add(task)
    task.add_done_callback(_later.discard)
    return False


def write_soon(store: LockedStore, write: Callable[[], object], *, patience: float) -> None:
    """On an event loop, :func:`save_now_or_later`; elsewhere (a thread, a command without a
    loop) ``write`` at once, waiting out the connection's busy timeout as any call does."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        write()
        return
    save_now_or_later(store, write, patience=patience)
