"""Which process is writing each streaming reply, so one left ``streaming`` by a process that
died can be told from one another window is still writing.

A reply is stored as ``streaming`` before its first token and its text flushed as it arrives
(``flow_reply``); a cancel or a failure stores it as ``interrupted``. A process that is killed
(a closed terminal window, ``kill -9``, a power cut) does neither, and the reply stayed
"streaming…" for good: in the chat's header, in exports, in every other window. Each streaming
reply therefore has a row here naming its writer (host, pid and the process's start time, which
tells a pid the system has given to another process since). Opening the store closes the
replies whose writer on this host is gone (``Store.close_orphaned_replies``): ``interrupted``, their text as it was last flushed.
Writers on other hosts (a database on a shared folder) are left alone: nothing here can see
whether they run.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Writer", "forget_writer", "host", "is_running", "note_writer", "orphaned"]


@dataclass(frozen=True)
class Writer:
    host: str
    pid: int
    started: int | None
    """When the process started (clock ticks after boot, from /proc); None where unknown."""


def process_start(pid: int) -> int | None:
    """A process's start time from /proc (Linux), None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[19])  # field 22 of stat(5); the first two are before the ")"
    except (OSError, IndexError, ValueError):
        return None


def host() -> str:
    """This machine's name (``socket.gethostname()`` without importing socket: 5 ms)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    return os.environ.get("COMPUTERNAME", "")


@lru_cache(maxsize=1)
def _this_process(pid: int) -> Writer:
    return Writer(host(), pid, process_start(pid))


def this_process() -> Writer:
    return _this_process(os.getpid())  # keyed by pid: a forked child is another writer


def is_running(writer: Writer) -> bool:
    """Whether the writer's process still runs (on this host). In doubt, it does."""
    if writer.pid == os.getpid():
        return True
    if os.name == "nt":
        return True  # os.kill would end the process there, not probe it
    try:
        os.kill(writer.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        pass
    if writer.started is not None:
        started = process_start(writer.pid)
        if started is not None and started != writer.started:
            return False  # the pid now belongs to another process
    return True


def note_writer(conn: sqlite3.Connection, message_id: str) -> None:
    """Record this process as the writer of a streaming reply (in the transaction that
    stores it, so no other window ever sees the reply without its writer)."""
    writer = this_process()
    conn.execute("INSERT OR REPLACE INTO reply_writers (message_id, host, pid, started) "
                 "VALUES (?, ?, ?, ?)", (message_id, writer.host, writer.pid, writer.started))


def forget_writer(conn: sqlite3.Connection, message_id: str) -> None:
    """The reply is no longer streaming."""
    conn.execute("DELETE FROM reply_writers WHERE message_id = ?", (message_id,))


def orphaned(conn: sqlite3.Connection) -> list[str]:
    """Streaming replies whose writer on this host is gone."""
    here = host()
    rows = conn.execute("SELECT message_id, host, pid, started FROM reply_writers").fetchall()
    return [message_id for message_id, row_host, pid, started in rows
            if row_host == here and not is_running(Writer(row_host, pid, started))]
