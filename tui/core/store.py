"""The conversation store: one SQLite file, shared safely by several running copies.

Why it looks the way it does:

* WAL mode plus a busy timeout lets two copies of the app (or the app and ``gpt-tui ask``)
  write to one file; every multi-statement write takes the write lock up front
  (``BEGIN IMMEDIATE``) so it waits for the other writer instead of failing.
* The file is vetted (:func:`tui.core.store_errors.vet_file`) before SQLite may write to
  it, so a corrupt file or one from a newer version is reported (``DatabaseCorrupt`` /
  ``DatabaseTooNew``) and left byte-for-byte as it was. ``create=False`` never creates a
  file, for read-only commands.
* Ids are ULIDs (:mod:`tui.core.ids`), so "newest" is ``ORDER BY id`` on an index.
* Search is FTS5 kept in sync by triggers (:mod:`tui.core.migrations`), queried by
  :mod:`tui.core.store_search`, which also makes user text safe FTS syntax.
* One connection per Store, guarded by a lock: the UI may call it from worker threads.

Public API (the contract other layers code against): ``Store`` and the ``StoreError``
family below; see each method's docstring.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from tui.core import ids, store_server, tree
from tui.core.migrations import SCHEMA_VERSION, migrate, user_version
from tui.core.paths import ensure_private_folder
from tui.core.models import (
    Conversation,
    Message,
    MessageStatus,
    Role,
    SearchHit,
    Strategy,
    Summary,
    utc_now,
)
from tui.core.store_rows import (
    CONVERSATION_COLUMNS,
    CONVERSATION_EDITABLE,
    MESSAGE_COLUMNS,
    MESSAGE_EDITABLE,
    check_fields,
    conversation_from_row,
    message_from_row,
    select_list,
    to_db_value,
)
from tui.core.store_errors import (
    AmbiguousId,
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseTooNew,
    NoDatabase,
    NotFound,
    StoreError,
    too_new,
    translate_error,
    vet_file,
)
from tui.core.store_attachments import add_images, draft_images, images_for, set_draft_images
from tui.core.attachments import ImageFile
from tui.core.store_history import prompt_history
from tui.core.store_search import Searcher, search_store
from tui.core.store_server import StoredWindow

if TYPE_CHECKING:  # imported on first use: see Store._db
    import sqlite_utils

__all__ = [
    "AmbiguousId", "DatabaseCorrupt", "DatabaseLocked", "DatabaseTooNew", "NoDatabase",
    "NEW_CHAT_DRAFT", "NotFound", "SCHEMA_VERSION", "Store", "StoreError",
]


P = ParamSpec("P")
R = TypeVar("R")

_CONV_SELECT = f"SELECT {select_list(CONVERSATION_COLUMNS)} FROM conversations"
_MSG_SELECT = f"SELECT {select_list(MESSAGE_COLUMNS)} FROM messages"
_LISTING_ORDER = "ORDER BY pinned DESC, updated DESC, id DESC"
# The drafts key of the new chat that has no row yet.
NEW_CHAT_DRAFT = ""


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Serialise access to the connection and turn SQLite errors into StoreErrors."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        assert isinstance(store, Store)
        with store._lock:
            if store._conn is None:
                raise StoreError(f"database {store.path} is closed")
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as error:
                raise translate_error(error, store.path) from error

    return wrapper


def _create_private(path: Path) -> None:
    """Create the missing folders (0700) and an empty database file (0600).

    Conversations are private: a new file is never readable by others, not even for the
    moment before a chmod. SQLite gives the -wal and -shm files the main file's mode. Folders
    that already exist (``--db /tmp/x.db``) are left alone.
    """
    try:
        ensure_private_folder(path.parent)
        with contextlib.suppress(FileExistsError):  # another copy got there first
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise StoreError(f"cannot create {error.filename or path}: {error.strerror}") from None


class Store:
    """All reads and writes of conversations, messages, summaries and learned limits."""

    # How many of the newest matching messages a search ranks (see _search_messages).
    SEARCH_CANDIDATES = 5000

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000,
                 create: bool = True) -> None:
        """Open (or with ``create``, create) the file and migrate it in place.

        Raises NoDatabase (create=False and no file), DatabaseCorrupt, DatabaseTooNew,
        DatabaseLocked or StoreError; in every case the file is left as it was.
        """
        self.path = Path(path).expanduser()
        self.schema_version = 0
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._seen_data_version: int | None = None
        if self.path.is_dir():
            raise StoreError(f"cannot use database {self.path}: it is a directory")
        if not create:
            if not self.path.is_file() or self.path.stat().st_size == 0:
                raise NoDatabase(f"no database at {self.path}")
        else:
            _create_private(self.path)
        vet_file(self.path)
        try:
            conn = sqlite3.connect(str(self.path), timeout=busy_timeout_ms / 1000,
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise translate_error(error, self.path) from None
        try:
            self._open(conn, busy_timeout_ms)
        except BaseException as error:
            conn.close()
            if isinstance(error, sqlite3.Error):
                raise translate_error(error, self.path) from None
            raise
        self._conn = conn

    @functools.cached_property
    def _db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection, built on first use: importing it (with
        click, pluggy and dateutil) costs the read-only commands ~40 ms and 5 MB."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn, recursive_triggers=False,
                                     execute_plugins=False)

    def _open(self, conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        # Read-only probing first: nothing below writes until the file is known to be ours.
        version = user_version(conn)
        if version > SCHEMA_VERSION:
            raise too_new(self.path, version)
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version == 0 and tables:
            raise StoreError(f"{self.path} is an SQLite database, but not a gpt-tui one")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
        self.schema_version = user_version(conn)

    # -- plumbing -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        """The raw connection, for benchmarks and tests."""
        if self._conn is None:
            raise StoreError(f"database {self.path} is closed")
        return self._conn

    @_guarded
    def read(self, work: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``work(conn)`` under the store's lock (for modules like tui.core.tree that
        keep their own SQL); SQLite errors become StoreErrors."""
        return work(self.conn)

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

    # -- conversations --------------------------------------------------------------------

    @_guarded
    def create_conversation(self, *, model: str, title: str = "", system_prompt: str = "",
                            strategy: Strategy | str = Strategy.SUMMARIZE,
                            temperature: float | None = None, top_p: float | None = None,
                            max_output_tokens: int | None = None,
                            context_window: int | None = None, json_output: bool = False,
                            extra_params: dict[str, Any] | None = None) -> Conversation:
        now = utc_now()
        conversation = Conversation(
            id=ids.new_ulid(), title=title, model=model, system_prompt=system_prompt,
            strategy=Strategy(strategy), created=now, updated=now, temperature=temperature,
            top_p=top_p, max_output_tokens=max_output_tokens, context_window=context_window,
            json_output=json_output, extra_params=dict(extra_params or {}))
        values = [to_db_value(getattr(conversation, c)) for c in CONVERSATION_COLUMNS]
        marks = ", ".join("?" * len(CONVERSATION_COLUMNS))
        self.conn.execute(
            f"INSERT INTO conversations ({select_list(CONVERSATION_COLUMNS)}) VALUES ({marks})",
            values)
        return conversation

    @_guarded
    def get_conversation(self, conversation_id: str) -> Conversation:
        row = self.conn.execute(f"{_CONV_SELECT} WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise NotFound(f"no conversation with id {conversation_id}")
        return conversation_from_row(row)

    @_guarded
    def resolve_conversation(self, id_or_prefix: str) -> Conversation:
        """The conversation whose id is, or starts with, ``id_or_prefix`` (case-insensitive)."""
        prefix = id_or_prefix.strip().upper()
        if not prefix or any(char not in ids.ALPHABET for char in prefix):
            raise NotFound(f"no conversation with id {id_or_prefix!r}")
        rows = self.conn.execute(
            f"{_CONV_SELECT} WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
            (prefix, prefix + "~")).fetchall()
        if not rows:
            raise NotFound(f"no conversation with id {id_or_prefix!r}")
        if len(rows) > 1 and rows[0][0] != prefix:
            raise AmbiguousId(
                f"id prefix {id_or_prefix!r} matches several conversations; type more of it")
        return conversation_from_row(rows[0])

    @_guarded
    def latest_conversation(self, *, include_archived: bool = False) -> Conversation | None:
        """The most recently updated conversation (pinned or not)."""
        where = "" if include_archived else "WHERE archived = 0"
        row = self.conn.execute(
            f"{_CONV_SELECT} {where} ORDER BY updated DESC, id DESC LIMIT 1").fetchone()
        return None if row is None else conversation_from_row(row)

    @staticmethod
    def _archived_filter(archived: bool | None) -> tuple[str, tuple[Any, ...]]:
        if archived is None:
            return "", ()
        return "WHERE archived = ?", (int(archived),)

    @_guarded
    def list_conversations(self, *, limit: int = 50, offset: int = 0,
                           archived: bool | None = False) -> list[Conversation]:
        """Pinned first, then most recently updated. archived: False hides archived ones,
        True lists only them, None lists all."""
        where, params = self._archived_filter(archived)
        rows = self.conn.execute(
            f"{_CONV_SELECT} {where} {_LISTING_ORDER} LIMIT ? OFFSET ?",
            (*params, limit, offset)).fetchall()
        return [conversation_from_row(row) for row in rows]

    @_guarded
    def listing_widths(self, *, archived: bool | None = False,
                       limit: int | None = None) -> list[tuple[str, int]]:
        """(id, length of the model name) of each conversation list_conversations would
        return, in its order: what a listing's column widths need, without loading its rows
        (``gpt-tui list`` prints page by page)."""
        where, params = self._archived_filter(archived)
        rows = self.conn.execute(
            f"SELECT id, length(model) FROM conversations {where} {_LISTING_ORDER} LIMIT ?",
            (*params, -1 if limit is None else limit)).fetchall()
        return [(cid, int(size or 0)) for cid, size in rows]

    @_guarded
    def count_conversations(self, *, archived: bool | None = False) -> int:
        where, params = self._archived_filter(archived)
        return int(self.conn.execute(
            f"SELECT count(*) FROM conversations {where}", params).fetchone()[0])

    @_guarded
    def update_conversation(self, conversation_id: str, **fields: Any) -> Conversation:
        """Set any Conversation field but id/created; does not bump ``updated``."""
        check_fields(fields, CONVERSATION_EDITABLE, "conversation")
        if "strategy" in fields:
            fields["strategy"] = Strategy(fields["strategy"])
        if fields:
            assignments = ", ".join(f"{name} = ?" for name in fields)
            values = [to_db_value(value) for value in fields.values()]
            cursor = self.conn.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*values, conversation_id))
            if cursor.rowcount == 0:
                raise NotFound(f"no conversation with id {conversation_id}")
        return self.get_conversation(conversation_id)

    def rename_conversation(self, conversation_id: str, title: str) -> Conversation:
        return self.update_conversation(conversation_id, title=title)

    @_guarded
    def replace_title(self, conversation_id: str, title: str, *, expected: str) -> bool:
        """Set the title only if it is still ``expected`` (one atomic UPDATE); False if not.

        For titles written in the background: a title the user set in the meantime, in this
        copy of the app or another, wins.
        """
        cursor = self.conn.execute(
            "UPDATE conversations SET title = ? WHERE id = ? AND title = ?",
            (title, conversation_id, expected))
        return cursor.rowcount > 0

    def set_pinned(self, conversation_id: str, pinned: bool) -> Conversation:
        return self.update_conversation(conversation_id, pinned=pinned)

    def set_archived(self, conversation_id: str, archived: bool) -> Conversation:
        return self.update_conversation(conversation_id, archived=archived)

    @_guarded
    def delete_conversation(self, conversation_id: str) -> None:
        """Removes the conversation with its messages, summaries and search entries."""
        cursor = self.conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        if cursor.rowcount == 0:
            raise NotFound(f"no conversation with id {conversation_id}")

    @_guarded
    def touch_conversation(self, conversation_id: str) -> None:
        cursor = self.conn.execute(
            "UPDATE conversations SET updated = ? WHERE id = ?", (utc_now(), conversation_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no conversation with id {conversation_id}")

    @_guarded
    def conversation_ids(self) -> list[str]:
        """Every conversation id, sorted (for showing the shortest unambiguous prefixes)."""
        return [row[0] for row in self.conn.execute("SELECT id FROM conversations ORDER BY id")]

    @_guarded
    def message_counts(self, conversation_ids: list[str]) -> dict[str, int]:
        """Number of messages of each given conversation (0 for none), in one query."""
        counts = dict.fromkeys(conversation_ids, 0)
        for start in range(0, len(conversation_ids), 500):
            chunk = conversation_ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for cid, count in self.conn.execute(
                    f"SELECT conversation_id, count(*) FROM messages "
                    f"WHERE conversation_id IN ({marks}) GROUP BY conversation_id", chunk):
                counts[cid] = count
        return counts

    # -- messages -------------------------------------------------------------------------

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
        cursor = self.conn.execute(
            f"UPDATE messages SET {assignments} WHERE id = ?", (*values, message_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no message with id {message_id}")

    @_guarded
    def get_message(self, message_id: str) -> Message:
        row = self.conn.execute(f"{_MSG_SELECT} WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise NotFound(f"no message with id {message_id}")
        return message_from_row(row)

    @_guarded
    def load_messages(self, conversation_id: str, *, limit: int | None = None,
                      before_id: str | None = None) -> list[Message]:
        """The active path (root to leaf: what is shown and sent), oldest first; with
        ``limit``, its newest ``limit`` messages above ``before_id`` (so paging back passes
        the first id of the previous page). The whole tree: tree.whole_tree."""
        return tree.load_path_sql(self.conn, conversation_id, limit=limit,
                                  before_id=before_id)

    @_guarded
    def load_messages_forward(self, conversation_id: str, *, limit: int,
                              after_id: str | None = None) -> tuple[list[Message], bool]:
        """The active path read from its start: the first ``limit`` messages, or the
        ``limit`` after ``after_id`` (oldest first), and whether newer ones follow. Jumping
        to a long chat's first message reads one page, not every page on the way."""
        return tree.path_page_sql(self.conn, conversation_id, limit=limit, after_id=after_id)

    @_guarded
    def load_messages_around(self, conversation_id: str, message_id: str, *, limit: int,
                             lead: int = 2) -> tuple[list[Message], bool, bool] | None:
        """``limit`` messages of the active path starting ``lead`` before ``message_id``
        (oldest first), whether older and newer ones exist; None: not on the path."""
        return tree.path_window_sql(self.conn, conversation_id, message_id, limit=limit,
                                    lead=lead)

    @_guarded
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

    # -- summaries ------------------------------------------------------------------------

    @_guarded
    def add_summary(self, conversation_id: str, content: str, *, first_message_id: str,
                    last_message_id: str, covered_count: int, token_count: int | None = None,
                    model: str | None = None,
                    previous_summary_id: str | None = None) -> Summary:
        """Record a summary of messages first_message_id..last_message_id (inclusive)."""
        summary = Summary(
            id=ids.new_ulid(), conversation_id=conversation_id, content=content,
            first_message_id=first_message_id, last_message_id=last_message_id,
            covered_count=covered_count, token_count=token_count, model=model,
            previous_summary_id=previous_summary_id)
        try:
            tree.insert_summary_sql(self.conn, summary)
        except sqlite3.IntegrityError:
            raise NotFound(f"no conversation with id {conversation_id}") from None
        return summary

    @_guarded
    def latest_summary(self, conversation_id: str) -> Summary | None:
        """The newest summary that holds on the active path (see tree.path_summaries_sql)."""
        summaries = tree.path_summaries_sql(self.conn, conversation_id)
        return summaries[-1] if summaries else None

    @_guarded
    def list_summaries(self, conversation_id: str) -> list[Summary]:
        """The summaries that hold on the active path, oldest first."""
        return tree.path_summaries_sql(self.conn, conversation_id)

    # -- what servers taught us (tui.core.store_server) ------------------------------------

    @_guarded
    def set_model_window(self, model: str, context_window: int, *, source: str,
                         base_url: str | None = None) -> None:
        """Remember a model's window on one server (sanitized base URL); no URL: any server."""
        with self._write() as conn:
            store_server.set_window(conn, base_url or "", model, context_window, source)

    @_guarded
    def model_window(self, model: str, base_url: str | None = None) -> StoredWindow | None:
        """The window learned for ``model`` on ``base_url`` (else one from before v4)."""
        return store_server.get_window(self.conn, base_url, model)

    def get_model_window(self, model: str, base_url: str | None = None) -> int | None:
        stored = self.model_window(model, base_url)
        return None if stored is None else stored.context_window

    @_guarded
    def list_model_windows(self) -> list[StoredWindow]:
        return store_server.list_windows(self.conn)

    @_guarded
    def forget_model_window(self, model: str, base_url: str | None = None) -> int:
        with self._write() as conn:
            return store_server.forget_window(conn, model, base_url)

    @_guarded
    def cached_token_counts(self, tokenizer: str, digests: list[str]) -> dict[str, int]:
        return store_server.cached_counts(self.conn, tokenizer, digests)

    @_guarded
    def cache_token_counts(self, tokenizer: str, counts: dict[str, int]) -> None:
        if counts:
            with self._write() as conn:
                store_server.cache_counts(conn, tokenizer, counts)

    @_guarded
    def calibration(self, base_url: str, model: str) -> dict | None:
        return store_server.get_calibration(self.conn, base_url, model)

    @_guarded
    def set_calibration(self, base_url: str, model: str, state: dict) -> None:
        with self._write() as conn:
            store_server.set_calibration(conn, base_url, model, state)

    @_guarded
    def set_message_pinned(self, message_id: str, pinned: bool) -> Message:
        """Pin a message (always sent, never summarized or dropped) or unpin it."""
        cursor = self.conn.execute("UPDATE messages SET pinned = ? WHERE id = ?",
                                   (int(pinned), message_id))
        if cursor.rowcount == 0:
            raise NotFound(f"no message with id {message_id}")
        return self.get_message(message_id)

    # -- drafts ---------------------------------------------------------------------------

    @staticmethod
    def _draft_key(conversation_id: str | None) -> str:
        return conversation_id or NEW_CHAT_DRAFT

    @_guarded
    def get_draft(self, conversation_id: str | None) -> str:
        """The unsent text of a conversation (None: of the new chat), "" when there is none."""
        row = self.conn.execute("SELECT text FROM drafts WHERE conversation_id = ?",
                                (self._draft_key(conversation_id),)).fetchone()
        return "" if row is None else str(row[0])

    @_guarded
    def set_draft(self, conversation_id: str | None, text: str) -> None:
        """Keep ``text`` as the draft; blank text clears it (nothing worth keeping), with
        its images."""
        key = self._draft_key(conversation_id)
        if not text.strip():
            with self._write() as conn:
                conn.execute("DELETE FROM drafts WHERE conversation_id = ?", (key,))
                conn.execute("DELETE FROM draft_images WHERE conversation_id = ?", (key,))
            return
        self.conn.execute(
            "INSERT INTO drafts (conversation_id, text, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text, "
            "updated = excluded.updated", (key, text, utc_now()))

    def clear_draft(self, conversation_id: str | None) -> None:
        self.set_draft(conversation_id, "")

    @_guarded
    def get_draft_images(self, conversation_id: str | None) -> dict[str, ImageFile]:
        """The images attached to the draft, by chip label."""
        return draft_images(self.conn, self._draft_key(conversation_id))

    @_guarded
    def set_draft_images(self, conversation_id: str | None,
                         images: dict[str, ImageFile]) -> None:
        """The draft's images become ``images`` (chip label -> image)."""
        with self._write() as conn:
            set_draft_images(conn, self._draft_key(conversation_id), images)

    # -- changes by other connections -----------------------------------------------------

    @_guarded
    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: changes when another connection commits.

        Costs no I/O beyond a shared-memory read in WAL mode, so it can be polled often; this
        connection's own writes do not change it.
        """
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def changed_elsewhere(self) -> bool:
        """True when another connection (another running copy) committed since the last call.

        The first call only takes the reference point and returns False.
        """
        version = self.data_version()
        seen, self._seen_data_version = self._seen_data_version, version
        return seen is not None and version != seen

    @_guarded
    def latest_message_id(self, conversation_id: str) -> str | None:
        """The end of the conversation's active path (its newest shown message), None when
        it has none. Another window's send, regenerate or branch switch changes it."""
        return tree.active_leaf_sql(self.conn, conversation_id)

    @_guarded
    def add_images(self, message_id: str, images: list[ImageFile]) -> None:
        """Attach images to a stored message (sent with it from now on)."""
        with self._write() as conn:
            add_images(conn, message_id, images)

    @_guarded
    def images_for(self, message_ids: list[str]) -> dict[str, list[ImageFile]]:
        return images_for(self.conn, message_ids)

    @_guarded
    def prompt_history(self, conversation_id: str | None) -> list[str]:
        """Prompts sent before, newest first: this conversation's, then the others'."""
        return prompt_history(self.conn, conversation_id)

    # -- search ---------------------------------------------------------------------------

    @_guarded
    def search(self, query: str, *, limit: int = 50,
               include_archived: bool = True) -> list[SearchHit]:
        """Title hits, then message hits ranked best first, then (while typing) messages
        matching the last word as a prefix, newest first. Snippets mark matches with
        HIGHLIGHT_START/HIGHLIGHT_END. FTS syntax in ``query`` is taken literally."""
        return search_store(self.conn, query, limit=limit, include_archived=include_archived,
                            candidates=self.SEARCH_CANDIDATES)

    def searcher(self) -> Searcher:
        """A search of this database on its own connection, which a newer query cancels
        (the sidebar's search-as-you-type): see store_search.Searcher."""
        return Searcher(self.path, candidates=self.SEARCH_CANDIDATES)
