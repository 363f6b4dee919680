"""The conversation tree's SQL: each function takes a connection and runs inside the
caller's lock and transaction (the Store's, or an operation of :mod:`tui.core.tree`).

Split from :mod:`tui.core.tree`, which re-exports every name here, so the tree keeps one
import path for its callers while the queries (walking paths, siblings, inserting whole
records) stay in a file of their own. ``Branch`` lives here because ``branches_sql`` builds it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tui.core.models import Conversation, Message, Summary
from tui.core.store_rows import (
    CONVERSATION_COLUMNS,
    MESSAGE_COLUMNS,
    SUMMARY_COLUMNS,
    message_from_row,
    select_list,
    summary_from_row,
    to_db_value,
)


@dataclass(frozen=True)
class Branch:
    """Where a message sits among its siblings: ``position`` of ``count`` (from 1)."""

    position: int
    count: int

    @property
    def label(self) -> str:
        return f"‹ {self.position}/{self.count} ›"


# -- SQL on a connection -----------------------------------------------------------------

_PATH = """
WITH RECURSIVE path(id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM messages WHERE id = :start
    UNION ALL
    SELECT m.id, m.parent_id, path.depth + 1 FROM messages AS m JOIN path ON m.id = path.parent_id
    LIMIT :limit
)
"""
# The newest child at every step, down to a leaf: the branch a message "opens".
_DESCEND = """
WITH RECURSIVE down(id, depth) AS (
    SELECT :start, 0
    UNION ALL
    SELECT (SELECT c.id FROM messages AS c WHERE c.parent_id = down.id
            ORDER BY c.id DESC LIMIT 1), down.depth + 1
    FROM down WHERE down.id IS NOT NULL
)
SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1
"""


def active_leaf_sql(conn: sqlite3.Connection, conversation_id: str) -> str | None:
    """The end of the active path: the stored leaf, else (none stored, or it is gone) the
    newest message, so a conversation with messages always shows some."""
    row = conn.execute(
        "SELECT coalesce((SELECT m.id FROM conversations AS c JOIN messages AS m "
        "ON m.id = c.active_leaf_id AND m.conversation_id = c.id WHERE c.id = :cid), "
        "(SELECT max(id) FROM messages WHERE conversation_id = :cid))",
        {"cid": conversation_id}).fetchone()
    return None if row is None else row[0]


def set_leaf_sql(conn: sqlite3.Connection, conversation_id: str, leaf_id: str | None) -> None:
    conn.execute("UPDATE conversations SET active_leaf_id = ? WHERE id = ?",
                 (leaf_id, conversation_id))


def path_messages_sql(conn: sqlite3.Connection, start: str | None,
                      limit: int | None = None) -> list[Message]:
    """``start`` and its ancestors (at most ``limit`` of them), root first."""
    if start is None:
        return []
    rows = conn.execute(
        f"{_PATH} SELECT {select_list(MESSAGE_COLUMNS, 'm')} FROM path "
        f"JOIN messages AS m ON m.id = path.id ORDER BY path.depth DESC",
        {"start": start, "limit": -1 if limit is None else limit}).fetchall()
    return [message_from_row(row) for row in rows]


def path_ids_sql(conn: sqlite3.Connection, start: str | None) -> list[str]:
    """The ids from the root to ``start``."""
    if start is None:
        return []
    rows = conn.execute(f"{_PATH} SELECT id FROM path ORDER BY depth DESC",
                        {"start": start, "limit": -1}).fetchall()
    return [row[0] for row in rows]


def load_path_sql(conn: sqlite3.Connection, conversation_id: str, *, limit: int | None,
                  before_id: str | None) -> list[Message]:
    """The active path, oldest first; see Store.load_messages."""
    if before_id is None:
        start = active_leaf_sql(conn, conversation_id)
    else:
        row = conn.execute("SELECT parent_id FROM messages WHERE id = ? AND "
                           "conversation_id = ?", (before_id, conversation_id)).fetchone()
        start = None if row is None else row[0]
    return path_messages_sql(conn, start, limit)


def path_page_sql(conn: sqlite3.Connection, conversation_id: str, *, limit: int,
                  after_id: str | None) -> tuple[list[Message], bool]:
    """A page of the active path read forwards: its first ``limit`` messages, or the
    ``limit`` after ``after_id``; and whether more follow. Only the path's ids are walked
    (one index lookup a step); the page's rows are the only messages read. ``after_id`` off
    the active path (another branch was chosen meanwhile) gives ``([], False)``."""
    path = path_ids_sql(conn, active_leaf_sql(conn, conversation_id))
    start = 0
    if after_id is not None:
        try:
            start = path.index(after_id) + 1
        except ValueError:
            return [], False
    wanted = path[start:start + limit]
    return messages_by_ids_sql(conn, wanted), start + limit < len(path)


def path_window_sql(conn: sqlite3.Connection, conversation_id: str, message_id: str, *,
                    limit: int, lead: int) -> tuple[list[Message], bool, bool] | None:
    """``limit`` messages of the active path from ``lead`` before ``message_id`` (a search
    hit deep in a long chat), and whether older and newer ones exist; None when the
    message is not on the active path."""
    path = path_ids_sql(conn, active_leaf_sql(conn, conversation_id))
    try:
        start = max(0, path.index(message_id) - lead)
    except ValueError:
        return None
    wanted = path[start:start + limit]
    return messages_by_ids_sql(conn, wanted), start > 0, start + limit < len(path)


def messages_by_ids_sql(conn: sqlite3.Connection, message_ids: list[str]) -> list[Message]:
    """The messages of ``message_ids``, in that order (ids not stored are left out)."""
    found: dict[str, Message] = {}
    for begin in range(0, len(message_ids), 500):
        chunk = message_ids[begin:begin + 500]
        rows = conn.execute(
            f"SELECT {select_list(MESSAGE_COLUMNS)} FROM messages "
            f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
        for row in rows:
            message = message_from_row(row)
            found[message.id] = message
    return [found[mid] for mid in message_ids if mid in found]


def descend_sql(conn: sqlite3.Connection, message_id: str) -> str:
    """The leaf reached from ``message_id`` by always taking the newest child."""
    row = conn.execute(_DESCEND, {"start": message_id}).fetchone()
    return message_id if row is None else row[0]


def path_summaries_sql(conn: sqlite3.Connection, conversation_id: str) -> list[Summary]:
    """The summaries that hold on the active path, oldest first.

    A summary covers the path from the root to its ``last_message_id``, a prefix shared by
    every branch through that message, so it serves them all; one whose last message is on
    another branch (or deleted) does not apply here.
    """
    on_path = set(path_ids_sql(conn, active_leaf_sql(conn, conversation_id)))
    if not on_path:
        return []
    rows = conn.execute(
        f"SELECT {select_list(SUMMARY_COLUMNS)} FROM summaries WHERE conversation_id = ? "
        f"ORDER BY id", (conversation_id,)).fetchall()
    summaries = [summary_from_row(row) for row in rows]
    return [s for s in summaries if s.last_message_id in on_path]


def parent_of_sql(conn: sqlite3.Connection, message_id: str) -> tuple[str, str | None]:
    """(conversation id, parent id) of a stored message; KeyError when there is none."""
    row = conn.execute("SELECT conversation_id, parent_id FROM messages WHERE id = ?",
                       (message_id,)).fetchone()
    if row is None:
        raise KeyError(message_id)
    return row[0], row[1]


def sibling_ids_sql(conn: sqlite3.Connection, conversation_id: str,
                    parent_id: str | None) -> list[str]:
    if parent_id is None:
        rows = conn.execute("SELECT id FROM messages WHERE conversation_id = ? AND "
                            "parent_id IS NULL ORDER BY id", (conversation_id,))
    else:
        rows = conn.execute("SELECT id FROM messages WHERE parent_id = ? ORDER BY id",
                            (parent_id,))
    return [row[0] for row in rows]


def branches_sql(conn: sqlite3.Connection, conversation_id: str) -> dict[str, Branch]:
    """Every message of the conversation that has siblings, with its place among them."""
    groups: dict[str | None, list[str]] = {}
    for message_id, parent_id in conn.execute(
            "SELECT id, parent_id FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,)):
        groups.setdefault(parent_id, []).append(message_id)
    return {message_id: Branch(index + 1, len(group)) for group in groups.values()
            if len(group) > 1 for index, message_id in enumerate(group)}


def subtree_size_sql(conn: sqlite3.Connection, message_id: str) -> int:
    row = conn.execute(
        "WITH RECURSIVE below(id) AS (SELECT ? UNION ALL "
        "SELECT m.id FROM messages AS m JOIN below ON m.parent_id = below.id) "
        "SELECT count(*) FROM below", (message_id,)).fetchone()
    return int(row[0])


# -- inserting whole records (fork, import) ----------------------------------------------

def _values(record: Any, columns: Iterable[str]) -> list[Any]:
    return [to_db_value(getattr(record, column)) for column in columns]


def insert_conversation_sql(conn: sqlite3.Connection, conversation: Conversation) -> None:
    conn.execute(
        f"INSERT INTO conversations ({select_list(CONVERSATION_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(CONVERSATION_COLUMNS))})",
        _values(conversation, CONVERSATION_COLUMNS))


def insert_message_sql(conn: sqlite3.Connection, message: Message) -> None:
    conn.execute(
        f"INSERT INTO messages ({select_list(MESSAGE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})", _values(message, MESSAGE_COLUMNS))


def insert_messages_sql(conn: sqlite3.Connection, messages: list[Message]) -> None:
    """Many messages at once (an import, a fork), with sqlite-utils' batched inserts; its
    savepoints nest in the caller's transaction, so all of them are stored or none."""
    import sqlite_utils  # loaded when needed: `list` and `search` never use it

    database = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    database["messages"].insert_all(
        ({column: to_db_value(getattr(m, column)) for column in MESSAGE_COLUMNS}
         for m in messages), pk="seq", batch_size=200)


def insert_summary_sql(conn: sqlite3.Connection, summary: Summary) -> None:
    conn.execute(
        f"INSERT INTO summaries ({select_list(SUMMARY_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(SUMMARY_COLUMNS))})", _values(summary, SUMMARY_COLUMNS))
