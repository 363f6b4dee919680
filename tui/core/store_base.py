"""What every part of the Store shares: one connection, its lock, write transactions, and
the decorator that serialises calls and turns SQLite errors into StoreErrors.

The Store is split by responsibility (store_drafts, store_messages, store_summaries,
store_knowledge) into classes that each extend :class:`StoreBase`;
:class:`tui.core.store.Store` inherits them all and opens the file, so callers see one
object and import only ``tui.core.store``.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from tui.core.store_errors import DatabaseLocked, StoreError, translate_error

P = ParamSpec("P")
R = TypeVar("R")

IN_PROCESS_WAIT = 0.05
"""Seconds the store's own lock is waited for, held by another thread's call, before that
call is taken to be waiting out another program's lock: :meth:`StoreBase.waiting_at_most`
waits this long at least, a read (:func:`_reading`) then reads through the store's second,
query-only connection."""


class HeldLock:
    """The store's re-entrant lock, which also knows since when its holder has held it
    (:attr:`held_since`): a read waits IN_PROCESS_WAIT from then, not from its own start
    (see :func:`_reading`)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self.held_since: float | None = None
        """When the holder took it (None: free); set and cleared by the holder alone."""

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._depth += 1
        if self._depth == 1:
            self.held_since = time.monotonic()
        return True

    def release(self) -> None:
        self._depth -= 1
        if not self._depth:
            self.held_since = None
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Serialise access to the connection and turn SQLite errors into StoreErrors."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        assert isinstance(store, StoreBase)
        with store._lock:
            return store._on_main_connection(method, args, kwargs)

    return wrapper


def _reading(method: Callable[P, R]) -> Callable[P, R]:
    """A call that only reads: serialised like :func:`_guarded`, unless another thread has
    held the connection for IN_PROCESS_WAIT seconds. Such a call is nearly always waiting
    out another program's write lock (up to the busy timeout): this one then reads through
    a second, query-only connection, which WAL lets read meanwhile, and sees what was last
    committed. A read on the event loop never waits seconds behind someone else's write.

    The wait counts from when that call took the connection, not from each read's start:
    the reads the flow makes on the loop after a reply (five or six) each waited the whole
    IN_PROCESS_WAIT behind the same call, ~0.3 s with the screen still."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        assert isinstance(store, StoreBase)
        if getattr(store._here, "aside", None) is not None:  # a read inside such a read
            return store._translated(method, args, kwargs)
        if store._lock.acquire(timeout=store._wait_left()):
            try:
                return store._on_main_connection(method, args, kwargs)
            finally:
                store._lock.release()
        with store._reading_aside():
            return store._translated(method, args, kwargs)

    return wrapper


class StoreBase:
    """The connection plumbing; ``Store.__init__`` sets these attributes."""

    path: Path
    _lock: HeldLock
    _conn: sqlite3.Connection | None
    _busy_timeout_ms: int = 5000
    # The second connection of _reading (opened on first need), its lock, and which thread
    # is reading through it now (``_here.aside``).
    _aside: sqlite3.Connection | None = None
    _aside_lock: threading.Lock
    _here: threading.local

    def _wait_left(self) -> float:
        """How long a read still waits for the store's lock: IN_PROCESS_WAIT from when its
        holder took it."""
        since = self._lock.held_since
        if since is None:
            return IN_PROCESS_WAIT
        return max(0.0, since + IN_PROCESS_WAIT - time.monotonic())

    def _init_connections(self) -> None:
        self._lock = HeldLock()
        self._conn = None
        self._aside_lock = threading.Lock()
        self._here = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection this thread's call uses (the raw one, for benchmarks and tests)."""
        aside = getattr(self._here, "aside", None)
        if aside is not None:
            return aside
        if self._conn is None:
            raise StoreError(f"database {self.path} is closed")
        return self._conn

    def _translated(self, method: Callable[..., R], args: tuple, kwargs: dict) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as error:
            raise translate_error(error, self.path) from error

    def _on_main_connection(self, method: Callable[..., R], args: tuple, kwargs: dict) -> R:
        """Run a call on the main connection, the store's lock held by the caller."""
        if self._conn is None:
            raise StoreError(f"database {self.path} is closed")
        here = self._here
        aside = getattr(here, "aside", None)
        if aside is None:
            return self._translated(method, args, kwargs)
        here.aside = None  # a write made inside a read made aside: on the main connection
        try:
            return self._translated(method, args, kwargs)
        finally:
            here.aside = aside

    @contextmanager
    def _reading_aside(self) -> Iterator[None]:
        """This thread's calls read through the second connection meanwhile."""
        with self._aside_lock:
            if self._conn is None:
                raise StoreError(f"database {self.path} is closed")
            if self._aside is None:
                self._aside = self._open_aside()
            self._here.aside = self._aside
            try:
                yield
            finally:
                self._here.aside = None

    def _open_aside(self) -> sqlite3.Connection:
        try:
            aside = sqlite3.connect(str(self.path), timeout=self._busy_timeout_ms / 1000,
                                    isolation_level=None, check_same_thread=False)
            aside.execute("PRAGMA query_only = ON")
        except sqlite3.Error as error:
            raise translate_error(error, self.path) from error
        return aside

    @property
    def closed(self) -> bool:
        """Closed (the app quitting): every call raises StoreError."""
        return self._conn is None

    def _close_connections(self) -> None:
        """Close both connections: later calls raise StoreError (closed)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        with self._aside_lock:
            if self._aside is not None:
                self._aside.close()
                self._aside = None

    @_reading
    def read(self, work: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``work(conn)`` under the store's lock (for modules like tui.core.tree that
        keep their own SQL); SQLite errors become StoreErrors."""
        return work(self.conn)

    @contextmanager
    def waiting_at_most(self, seconds: float) -> Iterator[None]:
        """Calls inside wait ``seconds`` at most for another program's write lock, not the
        connection's busy timeout (seconds): a write made on an event loop must not hold
        it up that long. The store's lock (another thread's call may be waiting out that
        timeout) is waited for as long, IN_PROCESS_WAIT at least: DatabaseLocked either
        way. It is held throughout, so no other thread's call runs with the shorter
        timeout."""
        seconds = max(0.0, seconds)
        # Another thread's call of a few milliseconds is waited for (a cancelled reply's
        # save found the lock held by a draft's and was put off).
        if not self._lock.acquire(timeout=max(seconds, IN_PROCESS_WAIT)):
            # Held that long, it is nearly always a call of another thread waiting out
            # another program's lock: the same words as that call's failure.
            raise DatabaseLocked(f"database {self.path} is locked by another program "
                                 "(timed out)")
        try:
            conn = self.conn
            conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
            try:
                yield
            finally:
                if self._conn is not None:
                    conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        finally:
            self._lock.release()

    @_guarded
    def write(self, work: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``work(conn)`` in one write transaction: all of it is stored, or nothing."""
        with self._write() as conn:
            return work(conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the lock up front (waits, never deadlocks)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @_guarded
    def run(self, action: Callable[[sqlite3.Connection], R], *, write: bool = False) -> R:
        """Run ``action`` on the connection under the store's lock (inside one write
        transaction with ``write``): how modules with tables of their own (personas, usage)
        read and write without growing this class."""
        if write:
            with self._write() as conn:
                return action(conn)
        return action(self.conn)
