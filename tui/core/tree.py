"""The conversation tree: parents, siblings and the one active path.

Every message has a parent (None for a root); siblings are alternatives (a regenerated
answer, an edited question). A conversation shows and sends one path, from a root to its
``active_leaf_id``. Child ids are always greater than their parent's (ULIDs made in order),
so along any path ids ascend, and what the planner and the pane compare by id still holds.

The SQL lives apart from :mod:`tui.core.store`: the ``*_sql`` functions (in
:mod:`tui.core.tree_sql`, re-exported here) take a connection (the store calls them inside
its lock and transactions); the functions defined here take a ``Store`` and are the API the
flow, the UI and the CLI use.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from tui.core import ids
from tui.core.models import Conversation, Message, Summary, utc_now
from tui.core.store_errors import NotFound
from tui.core.store_rows import (
    MESSAGE_COLUMNS,
    SUMMARY_COLUMNS,
    message_from_row,
    select_list,
    summary_from_row,
)
from tui.core.tree_sql import (
    Branch,
    active_leaf_sql,
    branches_sql,
    descend_sql,
    insert_conversation_sql,
    insert_message_sql,
    insert_messages_sql,
    insert_summary_sql,
    load_path_sql,
    messages_by_ids_sql,
    parent_of_sql,
    path_ids_sql,
    path_messages_sql,
    path_page_sql,
    path_summaries_sql,
    path_window_sql,
    set_leaf_sql,
    sibling_ids_sql,
    subtree_size_sql,
)

if TYPE_CHECKING:
    from tui.core.store import Store

__all__ = [
    "ACTIVE_LEAF", "Attach", "Branch", "active_leaf", "active_leaf_sql", "branch_size",
    "branches", "branches_sql", "delete_branch", "descend_sql", "end_path_at", "fork",
    "insert_conversation_sql", "insert_message_sql", "insert_messages_sql",
    "insert_summary_sql", "load_path_sql", "messages_by_ids_sql", "parent_of_sql",
    "path_ids_sql", "path_messages_sql", "path_page_sql", "path_summaries_sql",
    "path_window_sql", "select_message", "set_leaf_sql", "sibling_ids_sql",
    "subtree_size_sql", "switch_sibling", "whole_tree",
]


class Attach(Enum):
    """Where ``Store.append_message`` puts a message when no parent is named."""

    ACTIVE_LEAF = "the end of the active path"


ACTIVE_LEAF = Attach.ACTIVE_LEAF


# -- operations on a store ---------------------------------------------------------------

def branches(store: Store, conversation_id: str) -> dict[str, Branch]:
    """Message id -> its place among its siblings, for messages that have any."""
    return store.read(lambda conn: branches_sql(conn, conversation_id))


def active_leaf(store: Store, conversation_id: str) -> str | None:
    return store.read(lambda conn: active_leaf_sql(conn, conversation_id))


def select_message(store: Store, message_id: str) -> str:
    """Make the active path pass through ``message_id`` (a search hit on another branch):
    unchanged when it already does, else the newest branch below it. Returns the leaf."""

    def work(conn: sqlite3.Connection) -> str:
        conversation_id, _ = _parent(conn, message_id)
        leaf = active_leaf_sql(conn, conversation_id)
        if message_id in path_ids_sql(conn, leaf):
            return str(leaf)
        leaf = descend_sql(conn, message_id)
        set_leaf_sql(conn, conversation_id, leaf)
        return leaf

    return store.write(work)


def end_path_at(store: Store, message_id: str) -> None:
    """Make ``message_id`` the end of the active path (what comes after it stays stored,
    off the path): a new answer to it becomes a sibling of the old ones."""

    def work(conn: sqlite3.Connection) -> None:
        conversation_id, _ = _parent(conn, message_id)
        set_leaf_sql(conn, conversation_id, message_id)

    store.write(work)


def switch_sibling(store: Store, message_id: str, step: int) -> str | None:
    """Show the sibling ``step`` places from ``message_id`` (-1 the one before, 1 after) and
    the newest branch below it. Returns its id, None when there is none that way."""

    def work(conn: sqlite3.Connection) -> str | None:
        conversation_id, parent_id = _parent(conn, message_id)
        siblings = sibling_ids_sql(conn, conversation_id, parent_id)
        index = siblings.index(message_id) + step
        if not 0 <= index < len(siblings):
            return None
        target = siblings[index]
        set_leaf_sql(conn, conversation_id, descend_sql(conn, target))
        return target

    return store.write(work)


def delete_branch(store: Store, message_id: str) -> int:
    """Delete ``message_id`` and everything below it; returns how many messages went.

    When the active path ran through it, the path moves to a neighbouring sibling's newest
    branch (the one before, else after), else it ends at the parent.
    """

    def work(conn: sqlite3.Connection) -> int:
        conversation_id, parent_id = _parent(conn, message_id)
        on_path = message_id in path_ids_sql(conn, active_leaf_sql(conn, conversation_id))
        if on_path:
            siblings = sibling_ids_sql(conn, conversation_id, parent_id)
            index = siblings.index(message_id)
            others = siblings[:index][-1:] + siblings[index + 1:index + 2]
            leaf = descend_sql(conn, others[0]) if others else parent_id
            set_leaf_sql(conn, conversation_id, leaf)
        count = subtree_size_sql(conn, message_id)
        conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))
        return count

    return store.write(work)


def branch_size(store: Store, message_id: str) -> int:
    """How many messages deleting ``message_id`` removes (itself and all below it)."""
    return store.read(lambda conn: subtree_size_sql(conn, message_id))


def fork(store: Store, conversation_id: str, message_id: str) -> Conversation:
    """A new conversation holding a copy of the active path's part up to ``message_id``
    (with the summaries that hold on it), with the same settings; returns it."""

    def work(conn: sqlite3.Connection) -> Conversation:
        owner, _ = _parent(conn, message_id)
        if owner != conversation_id:
            raise NotFound(f"no message {message_id} in conversation {conversation_id}")
        path = path_messages_sql(conn, message_id)
        source = store.get_conversation(conversation_id)
        now = utc_now()
        copy = _copy_conversation(source, title=f"{source.title or 'Untitled'} (fork)",
                                  created=now, updated=now)
        insert_conversation_sql(conn, copy)
        mapping: dict[str, str] = {}
        copies = []
        for message in path:
            mapping[message.id] = ids.new_ulid()
            copies.append(replace(message, id=mapping[message.id], conversation_id=copy.id,
                                  parent_id=mapping.get(message.parent_id or "")))
        insert_messages_sql(conn, copies)
        for summary in path_summaries_sql(conn, conversation_id):
            if summary.last_message_id in mapping and summary.first_message_id in mapping:
                insert_summary_sql(conn, replace(
                    summary, id=ids.new_ulid(), conversation_id=copy.id,
                    first_message_id=mapping[summary.first_message_id],
                    last_message_id=mapping[summary.last_message_id],
                    previous_summary_id=None))
        set_leaf_sql(conn, copy.id, mapping[message_id])
        return copy

    return store.write(work)


def whole_tree(store: Store, conversation_id: str) -> tuple[list[Message], list[Summary]]:
    """Every message (parents before children) and every summary of a conversation."""

    def work(conn: sqlite3.Connection) -> tuple[list[Message], list[Summary]]:
        messages = [message_from_row(row) for row in conn.execute(
            f"SELECT {select_list(MESSAGE_COLUMNS)} FROM messages "
            f"WHERE conversation_id = ? ORDER BY id", (conversation_id,))]
        summaries = [summary_from_row(row) for row in conn.execute(
            f"SELECT {select_list(SUMMARY_COLUMNS)} FROM summaries "
            f"WHERE conversation_id = ? ORDER BY id", (conversation_id,))]
        return messages, summaries

    return store.read(work)


def _parent(conn: sqlite3.Connection, message_id: str) -> tuple[str, str | None]:
    try:
        return parent_of_sql(conn, message_id)
    except KeyError:
        raise NotFound(f"no message with id {message_id}") from None


def _copy_conversation(source: Conversation, **changes: Any) -> Conversation:
    return replace(source, id=ids.new_ulid(), pinned=False, archived=False, **changes)
