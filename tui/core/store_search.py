"""Turning what a user types into safe FTS5 queries.

FTS5 has its own query language (quotes, AND/OR/NOT, ``*``, ``-``, ``col:``); a search box
must never fail on it. Every whitespace-separated term becomes a quoted phrase (embedded
quotes doubled) and terms without any letter or digit are dropped since they cannot match.

While the user types, the last term is also tried as a prefix (unless the text ends in a
space). Prefix queries that fan out to many index terms are slow to *rank* (bm25 scans every
match), so the store ranks the exact query and appends prefix completions newest first; a
prefix needs at least MIN_PREFIX characters, the length the FTS prefix index covers.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tui.core.models import HIGHLIGHT_END, HIGHLIGHT_START, Conversation, SearchHit
from tui.core.store_search_cjk import has_cjk, search_cjk
from tui.core.store_errors import StoreError, translate_error
from tui.core.store_rows import CONVERSATION_COLUMNS, conversation_from_row, select_list

Found = tuple[str, str | None, str]  # conversation id, message id (None: title), snippet

_WORD = re.compile(r"\w")
MIN_PREFIX = 3
# Time allowed for prefix completions (seconds); see _newest_messages.
PREFIX_BUDGET_S = 0.05
PROGRESS_STEPS = 200  # SQLite VM steps between deadline checks


@dataclass(frozen=True)
class FtsQuery:
    exact: str
    # The same query with the last term as a prefix, or None when it should not be one.
    prefix: str | None


def parse_query(text: str) -> FtsQuery | None:
    """The MATCH expressions for ``text``, or None when nothing in it can match."""
    terms = [term for term in text.split() if _WORD.search(term)]
    if not terms:
        return None
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    exact = " ".join(quoted)
    prefix = None
    if not text[-1:].isspace() and len(terms[-1]) >= MIN_PREFIX:
        prefix = exact + "*"
    return FtsQuery(exact=exact, prefix=prefix)


def fts_query(text: str, *, prefix_last: bool = True) -> str | None:
    """One MATCH expression for ``text`` (prefix on the last term when allowed)."""
    query = parse_query(text)
    if query is None:
        return None
    return (query.prefix or query.exact) if prefix_last else query.exact


def search_store(conn: sqlite3.Connection, query: str, *, limit: int, include_archived: bool,
                 candidates: int) -> list[SearchHit]:
    """Title hits, then ranked message hits, then newest prefix completions (see module);
    a query with Chinese, Japanese or Korean text: see tui.core.store_search_cjk."""
    parsed = parse_query(query)
    if parsed is None or limit <= 0:
        return []
    if has_cjk(query):
        return _hits(conn, search_cjk(conn, query, limit=limit,
                                      include_archived=include_archived))
    archived = "" if include_archived else "AND c.archived = 0"
    found: list[Found] = list(conn.execute(
        f"""SELECT c.id, NULL, highlight(conversations_fts, 0, ?, ?)
            FROM conversations_fts JOIN conversations c ON c.seq = conversations_fts.rowid
            WHERE conversations_fts MATCH ? {archived}
            ORDER BY conversations_fts.rank LIMIT ?""",
        (HIGHLIGHT_START, HIGHLIGHT_END, parsed.prefix or parsed.exact, limit)))
    only_active = ("" if include_archived else
                   "AND (SELECT archived FROM conversations c"
                   " WHERE c.id = m.conversation_id) = 0")
    seen: set[int] = set()
    if len(found) < limit:
        found += _ranked_messages(conn, parsed.exact, limit - len(found), only_active, seen,
                                  candidates)
    if len(found) < limit and parsed.prefix:
        found += _newest_messages(conn, parsed.prefix, limit - len(found), only_active, seen)
    return _hits(conn, found)


def _hits(conn: sqlite3.Connection, found: list[Found]) -> list[SearchHit]:
    """The hits with their conversations, in the order found."""
    wanted = sorted({cid for cid, _, _ in found})
    conversations: dict[str, Conversation] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(f"SELECT {select_list(CONVERSATION_COLUMNS)} "
                                f"FROM conversations WHERE id IN ({marks})", chunk):
            conversations[row[0]] = conversation_from_row(row)
    return [SearchHit(conversation=conversations[cid], message_id=mid, snippet=snippet)
            for cid, mid, snippet in found if cid in conversations]


def _ranked_messages(conn: sqlite3.Connection, match: str, limit: int, only_active: str,
                     seen: set[int], candidates: int) -> list[Found]:
    """Best ``limit`` message hits among the newest ``candidates`` matches.

    Ranking every match of a very common word costs a second on a million messages;
    bounding the candidates (newest first, which is also what a chat search favours)
    keeps a query in tens of milliseconds. Snippets are made for the winners only.
    """
    top = conn.execute(
        f"""SELECT m.seq, m.id, m.conversation_id
            FROM (SELECT rowid, bm25(messages_fts) AS score FROM messages_fts
                  WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) AS r
            CROSS JOIN messages m ON m.seq = r.rowid
            WHERE 1 {only_active}
            ORDER BY r.score, m.seq DESC LIMIT ?""",
        (match, candidates, limit)).fetchall()
    if not top:
        return []
    marks = ", ".join("?" * len(top))
    snippets = dict(conn.execute(
        f"""SELECT rowid, snippet(messages_fts, 0, ?, ?, '…', 16) FROM messages_fts
            WHERE messages_fts MATCH ? AND rowid IN ({marks})""",
        (HIGHLIGHT_START, HIGHLIGHT_END, match, *(seq for seq, _, _ in top))))
    seen.update(seq for seq, _, _ in top)
    return [(cid, mid, snippets.get(seq, "")) for seq, mid, cid in top]


def _newest_messages(conn: sqlite3.Connection, match: str, limit: int, only_active: str,
                     seen: set[int]) -> list[Found]:
    """Newest ``limit`` prefix matches not already shown, within PREFIX_BUDGET_S.

    No ranking, but FTS5 still merges the postings of every term the prefix covers before
    the first row; a short prefix of a big vocabulary (beyond the 3-character prefix index)
    can take a second. Completions are a nicety, so past the budget they are dropped.
    """
    deadline = time.perf_counter() + PREFIX_BUDGET_S
    conn.set_progress_handler(lambda: time.perf_counter() > deadline, PROGRESS_STEPS)
    try:
        rows = _newest_rows(conn, match, limit, only_active, seen)
    except sqlite3.OperationalError as error:
        if "interrupt" not in str(error):
            raise
        return []
    finally:
        conn.set_progress_handler(None, 0)
    return [(cid, mid, snip) for seq, mid, cid, snip in rows if seq not in seen][:limit]


def _newest_rows(conn: sqlite3.Connection, match: str, limit: int, only_active: str,
                 seen: set[int]) -> list[tuple[int, str, str, str]]:
    return conn.execute(
        f"""SELECT m.seq, m.id, m.conversation_id, r.snip
            FROM (SELECT rowid, snippet(messages_fts, 0, ?, ?, '…', 16) AS snip
                  FROM messages_fts WHERE messages_fts MATCH ?
                  ORDER BY rowid DESC LIMIT ?) AS r
            CROSS JOIN messages m ON m.seq = r.rowid
            WHERE 1 {only_active}
            ORDER BY m.seq DESC LIMIT ?""",
        (HIGHLIGHT_START, HIGHLIGHT_END, match, limit + len(seen), limit + len(seen))
    ).fetchall()


class Searcher:
    """Search-as-you-type on a read connection of its own.

    The store's connection is shared under one lock: a search of a common word on a big
    store would hold it, and opening a chat or paging the list would wait behind a query
    whose answer is already stale. Here each query runs apart (WAL lets readers run beside
    the store), and ``cancel`` interrupts the one running: the newest query is the only one
    that finishes. Called from worker threads; ``search`` returns None for a cancelled one.
    """

    def __init__(self, path: Path, *, candidates: int, busy_timeout_ms: int = 5000) -> None:
        self._path = path
        self._candidates = candidates
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one query at a time on the connection
        self._generation = 0
        self._closed = False

    def cancel(self) -> None:
        """Stop the running query (if any); its ``search`` returns None."""
        self._generation += 1
        conn = self._conn
        if conn is not None:
            conn.interrupt()

    def search(self, query: str, *, limit: int, include_archived: bool = True,
               ) -> list[SearchHit] | None:
        """Like Store.search; None when ``cancel`` was called meanwhile."""
        generation = self._generation
        with self._lock:
            if generation != self._generation or self._closed:
                return None
            try:
                conn = self._connect()
                hits = search_store(conn, query, limit=limit,
                                    include_archived=include_archived,
                                    candidates=self._candidates)
            except sqlite3.Error as error:
                if generation != self._generation:
                    return None  # interrupted: a newer query is on its way
                raise translate_error(error, self._path) from error
            return hits if generation == self._generation else None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if not self._path.is_file():
                raise StoreError(f"no database at {self._path}")
            conn = sqlite3.connect(f"{self._path.resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=self._busy_timeout_ms / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        self.cancel()
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
