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
* One connection per Store, guarded by a lock: the UI may call it from worker threads. A
  read that finds the lock held for long (another thread's write waiting out another
  program's lock) reads through a second, query-only connection (``store_base._reading``).
* Conversations are read and written here; messages, summaries, drafts and what servers
  taught us in the classes Store inherits (store_messages, store_summaries, store_drafts,
  store_knowledge), all built on :class:`tui.core.store_base.StoreBase`.

Public API (the contract other layers code against): ``Store`` and the ``StoreError``
family below; see each method's docstring.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core import ids, tree
from tui.core.migrations import SCHEMA_VERSION, migrate, user_version
from tui.core.paths import ensure_private_folder
from tui.core.models import Conversation, SearchHit, Strategy, utc_now
from tui.core.store_rows import (
    CONVERSATION_COLUMNS,
    CONVERSATION_EDITABLE,
    check_fields,
    conversation_from_row,
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
from tui.core.store_base import _guarded, _reading
from tui.core.store_drafts import NEW_CHAT_DRAFT, DraftStore
from tui.core.store_history import prompt_history
from tui.core.store_knowledge import KnowledgeStore
from tui.core.store_messages import MessageStore
from tui.core.store_search import Searcher, search_store
from tui.core.store_summaries import SummaryStore

if TYPE_CHECKING:  # imported on first use: see Store._db
    import sqlite_utils

__all__ = [
    "AmbiguousId", "DatabaseCorrupt", "DatabaseLocked", "DatabaseTooNew", "NoDatabase",
    "NEW_CHAT_DRAFT", "NotFound", "SCHEMA_VERSION", "Store", "StoreError",
]

log = logging.getLogger(__name__)


_CONV_SELECT = f"SELECT {select_list(CONVERSATION_COLUMNS)} FROM conversations"
_LISTING_ORDER = "ORDER BY pinned DESC, updated DESC, id DESC"


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


class Store(MessageStore, SummaryStore, DraftStore, KnowledgeStore):
    """All reads and writes of conversations, messages, summaries, drafts and learned
    limits: conversations here, the rest in the classes it inherits (see store_base)."""

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
        self._init_connections()
        self._busy_timeout_ms = busy_timeout_ms
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
        try:
            self.close_orphaned_replies()
        except StoreError:  # locked by another program, say: the next opening will
            log.warning("could not close replies left streaming in %s", self.path,
                        exc_info=True)

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

    # -- plumbing (the rest is tui.core.store_base.StoreBase) ------------------------------

    def close(self) -> None:
        self._close_connections()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    @_reading
    def get_conversation(self, conversation_id: str) -> Conversation:
        row = self.conn.execute(f"{_CONV_SELECT} WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise NotFound(f"no conversation with id {conversation_id}")
        return conversation_from_row(row)

    @_reading
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

    @_reading
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

    @_reading
    def list_conversations(self, *, limit: int = 50, offset: int = 0,
                           archived: bool | None = False) -> list[Conversation]:
        """Pinned first, then most recently updated. archived: False hides archived ones,
        True lists only them, None lists all."""
        where, params = self._archived_filter(archived)
        rows = self.conn.execute(
            f"{_CONV_SELECT} {where} {_LISTING_ORDER} LIMIT ? OFFSET ?",
            (*params, limit, offset)).fetchall()
        return [conversation_from_row(row) for row in rows]

    @_reading
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

    @_reading
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

    @_reading
    def conversation_ids(self) -> list[str]:
        """Every conversation id, sorted (for showing the shortest unambiguous prefixes)."""
        return [row[0] for row in self.conn.execute("SELECT id FROM conversations ORDER BY id")]

    @_reading
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

    # -- changes by other connections -----------------------------------------------------

    @_guarded
    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: changes when another connection commits.

        Costs no I/O beyond a shared-memory read in WAL mode, so it can be polled often; this
        connection's own writes do not change it.
        """
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def files_stamp(self) -> tuple[int, ...]:
        """The database file's and its WAL's modification times and sizes: every commit,
        by any connection, changes one of them. Two ``stat`` calls and no SQLite, so an
        idle app can look every second without a thread; ``changed_elsewhere`` is only
        worth asking when this changed (or now and then, for file systems with coarse
        times)."""
        stamp: list[int] = []
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                info = path.stat()
            except OSError:
                stamp += (0, -1)
            else:
                stamp += (info.st_mtime_ns, info.st_size)
        return tuple(stamp)

    def changed_elsewhere(self) -> bool:
        """True when another connection (another running copy) committed since the last call.

        The first call only takes the reference point and returns False.
        """
        version = self.data_version()
        seen, self._seen_data_version = self._seen_data_version, version
        return seen is not None and version != seen

    @_reading
    def latest_message_id(self, conversation_id: str) -> str | None:
        """The end of the conversation's active path (its newest shown message), None when
        it has none. Another window's send, regenerate or branch switch changes it."""
        return tree.active_leaf_sql(self.conn, conversation_id)

    @_reading
    def prompt_history(self, conversation_id: str | None) -> list[str]:
        """Prompts sent before, newest first: this conversation's, then the others'."""
        return prompt_history(self.conn, conversation_id)

    # -- search ---------------------------------------------------------------------------

    @_reading
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
