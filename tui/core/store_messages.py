"""Messages, read and written through the Store: appended as children in a conversation's
tree (tui.core.tree keeps the tree's SQL), updated while a reply streams, paged along the
active path, pinned, and given images.
"""

from __future__ import annotations

import logging
from typing import Any

from tui.core import ids, tree
from tui.core.attachments import ImageFile
from tui.core.models import Message, MessageStatus, Role
from tui.core.reply_writers import forget_writer, note_writer, orphaned
from tui.core.store_attachments import add_images, images_for
from tui.core.store_base import StoreBase, _guarded, _reading
from tui.core.store_errors import NotFound
from tui.core.store_rows import (
    MESSAGE_COLUMNS,
    MESSAGE_EDITABLE,
    check_fields,
    message_from_row,
    select_list,
    to_db_value,
)

log = logging.getLogger(__name__)

_MSG_SELECT = f"SELECT {select_list(MESSAGE_COLUMNS)} FROM messages"


class MessageStore(StoreBase):
    """The Store's messages (see the module docstring)."""


    @_guarded
    def append_message(self, conversation_id: str, role: Role | str, content: str, *,
                       status: MessageStatus | str = MessageStatus.COMPLETE,
                       model: str | None = None, token_count: int | None = None,
                       token_encoding: str | None = None,
                       parent_id: str | None | tree.Attach = tree.ACTIVE_LEAF) -> Message:
        """Store a new message as a child of ``parent_id`` (by default the end of the
        active path; None: a new root) and make it the end of the active path; bumps the
        conversation's ``updated``."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM conversations WHERE id = ?",
                            (conversation_id,)).fetchone() is None:
                raise NotFound(f"no conversation with id {conversation_id}")
            if parent_id is tree.ACTIVE_LEAF:
                parent_id = tree.active_leaf_sql(conn, conversation_id)
            elif parent_id is not None:
                owner = conn.execute("SELECT conversation_id FROM messages WHERE id = ?",
                                     (parent_id,)).fetchone()
                if owner is None or owner[0] != conversation_id:
                    raise NotFound(f"no message {parent_id} in conversation {conversation_id}")
            message = Message(
                id=ids.new_ulid(), conversation_id=conversation_id, role=Role(role),
                content=content, model=model, status=MessageStatus(status),
                token_count=token_count, token_encoding=token_encoding,
                parent_id=parent_id)
            conn.execute("UPDATE conversations SET updated = ?, active_leaf_id = ? "
                         "WHERE id = ?", (message.created, message.id, conversation_id))
            tree.insert_message_sql(conn, message)
            if message.status is MessageStatus.STREAMING:
                note_writer(conn, message.id)
        return message

    @_guarded
    def update_message(self, message_id: str, **fields: Any) -> None:
        """Set content, status, token and finish fields, error or model: one UPDATE."""
        check_fields(fields, MESSAGE_EDITABLE, "message")
        if "status" in fields:
            fields["status"] = MessageStatus(fields["status"])
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = [to_db_value(value) for value in fields.values()]
        statement = f"UPDATE messages SET {assignments} WHERE id = ?"
        if fields.get("status", MessageStatus.STREAMING) is MessageStatus.STREAMING:
            cursor = self.conn.execute(statement, (*values, message_id))
        else:  # no longer streaming: its writer goes with it (tui.core.reply_writers)
            with self._write() as conn:
                cursor = conn.execute(statement, (*values, message_id))
                forget_writer(conn, message_id)
        if cursor.rowcount == 0:
            raise NotFound(f"no message with id {message_id}")

    @_guarded
    def set_token_counts(self, counts: dict[str, int], encoding: str) -> None:
        """Store many messages' token counts (and the encoding they were counted with) in one
        transaction: a chat's first send counts every message that has none (an import, an
        older version's rows), and a commit each cost ~35 us a message (2,000: 375 -> 304 ms
        for the whole send)."""
        if not counts:
            return
        with self._write() as conn:
            conn.executemany("UPDATE messages SET token_count = ?, token_encoding = ? "
                             "WHERE id = ?",
                             [(count, encoding, message_id)
                              for message_id, count in counts.items()])

    @_guarded
    def close_orphaned_replies(self) -> list[str]:
        """Mark replies left streaming by a process that ended ``interrupted`` (their text
        kept); their ids. Opening the store does it, and a window that stays open asks again
        (tui.core.reply_writers). Reads first, and writes only when there is something to
        close, so opening a store another program holds locked still works."""
        dead = orphaned(self.conn)
        if not dead:
            return []
        with self._write() as conn:
            for message_id in dead:
                conn.execute("UPDATE messages SET status = 'interrupted' "
                             "WHERE id = ? AND status = 'streaming'", (message_id,))
                forget_writer(conn, message_id)
        log.info("closed %d reply(s) left streaming by a process that ended", len(dead))
        return dead

    @_reading
    def get_message(self, message_id: str) -> Message:
        row = self.conn.execute(f"{_MSG_SELECT} WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise NotFound(f"no message with id {message_id}")
        return message_from_row(row)

    @_reading
    def load_messages(self, conversation_id: str, *, limit: int | None = None,
                      before_id: str | None = None) -> list[Message]:
        """The active path (root to leaf: what is shown and sent), oldest first; with
        ``limit``, its newest ``limit`` messages above ``before_id`` (so paging back passes
        the first id of the previous page). The whole tree: tree.whole_tree."""
        return tree.load_path_sql(self.conn, conversation_id, limit=limit,
                                  before_id=before_id)

    @_reading
    def load_messages_forward(self, conversation_id: str, *, limit: int,
                              after_id: str | None = None) -> tuple[list[Message], bool]:
        """The active path read from its start: the first ``limit`` messages, or the
        ``limit`` after ``after_id`` (oldest first), and whether newer ones follow. Jumping
        to a long chat's first message reads one page, not every page on the way."""
        return tree.path_page_sql(self.conn, conversation_id, limit=limit, after_id=after_id)

    @_reading
    def load_messages_around(self, conversation_id: str, message_id: str, *, limit: int,
                             lead: int = 2) -> tuple[list[Message], bool, bool] | None:
        """``limit`` messages of the active path starting ``lead`` before ``message_id``
        (oldest first), whether older and newer ones exist; None: not on the path."""
        return tree.path_window_sql(self.conn, conversation_id, message_id, limit=limit,
                                    lead=lead)

    @_reading
    def count_messages(self, conversation_id: str) -> int:
        """Every stored message of the conversation, on every branch."""
        return int(self.conn.execute(
            "SELECT count(*) FROM messages WHERE conversation_id = ?",
            (conversation_id,)).fetchone()[0])

    @_guarded
    def delete_message(self, message_id: str) -> None:
        """Delete the message and the branch below it; an active path through it now ends
        at its parent (tree.delete_branch moves to a sibling instead)."""
        with self._write() as conn:
            row = conn.execute("SELECT conversation_id, parent_id FROM messages WHERE id = ?",
                               (message_id,)).fetchone()
            if row is None:
                raise NotFound(f"no message with id {message_id}")
            if message_id in tree.path_ids_sql(conn, tree.active_leaf_sql(conn, row[0])):
                tree.set_leaf_sql(conn, row[0], row[1])
            conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    @_guarded
    def set_message_pinned(self, message_id: str, pinned: bool) -> Message:
        """Pin a message (always sent, never summarized or dropped) or unpin it."""
        cursor = self.conn.execute("UPDATE messages SET pinned = ? WHERE id = ?",
                                   (int(pinned), message_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no message with id {message_id}")
        return self.get_message(message_id)

    @_guarded
    def add_images(self, message_id: str, images: list[ImageFile]) -> None:
        """Attach images to a stored message (sent with it from now on)."""
        with self._write() as conn:
            add_images(conn, message_id, images)

    @_reading
    def images_for(self, message_ids: list[str]) -> dict[str, list[ImageFile]]:
        return images_for(self.conn, message_ids)
