"""Search inside runs of Chinese, Japanese and Korean text.

FTS5's ``unicode61`` tokenizer splits words at spaces and punctuation, and CJK text has
none: 日本語のメモです is one token, so searching 日本 found nothing. A second index over the
same messages, with FTS5's ``trigram`` tokenizer (``messages_trigram``, schema version 7),
finds any substring of three characters or more; shorter terms (most Chinese and Japanese
words are two characters) are looked up in the text itself, newest first, within a time
budget like the prefix completions'. A query with any CJK character takes this path for
all its terms (every term must occur); hits are newest first, with a snippet around the
first match.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import time

from tui.core.models import HIGHLIGHT_END, HIGHLIGHT_START

Found = tuple[str, str | None, str]  # conversation id, message id (None: title), snippet

_WORD = re.compile(r"\w")
TRIGRAM = 3
# Time allowed for a scan of the text (terms shorter than a trigram), seconds.
SCAN_BUDGET_S = 0.25
PROGRESS_STEPS = 1000
SNIPPET_CONTEXT = 24


@functools.cache
def _cjk() -> re.Pattern[str]:
    """Han (with radicals, extensions, compatibility forms), kana, Hangul, CJK punctuation.

    Compiled at the first search, not at every start: its ranges make it ~3 ms."""
    return re.compile("[\u2e80-\u2fdf\u3000-\u30ff\u3130-\u318f\u31f0-\u31ff"
                      "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
                      "\U00020000-\U0003134f]")


def has_cjk(text: str) -> bool:
    return bool(_cjk().search(text))


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet(text: str, terms: list[str]) -> str:
    """A one-line piece of ``text`` around the first match, every match marked."""
    lowered = text.lower()
    first = min((i for i in (lowered.find(t.lower()) for t in terms) if i >= 0), default=0)
    start = max(0, first - SNIPPET_CONTEXT)
    end = min(len(text), first + SNIPPET_CONTEXT * 2)
    piece = " ".join(text[start:end].split())
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                         re.IGNORECASE)
    marked = pattern.sub(lambda m: f"{HIGHLIGHT_START}{m.group()}{HIGHLIGHT_END}", piece)
    return ("…" if start else "") + marked + ("…" if end < len(text) else "")


def search_cjk(conn: sqlite3.Connection, query: str, *, limit: int,
               include_archived: bool) -> list[Found]:
    """Title hits, then message hits newest first, for a query with CJK text."""
    terms = [term for term in query.split() if _WORD.search(term)]
    if not terms or limit <= 0:
        return []
    likes = [_like(term) for term in terms]
    archived = "" if include_archived else "AND c.archived = 0"
    title_where = " AND ".join("c.title LIKE ? ESCAPE '\\'" for _ in likes)
    found: list[Found] = [
        (cid, None, snippet(title, terms)) for cid, title in conn.execute(
            f"SELECT c.id, c.title FROM conversations c WHERE {title_where} {archived} "
            f"ORDER BY c.updated DESC LIMIT ?", (*likes, limit))]
    if len(found) >= limit:
        return found[:limit]
    only_active = ("" if include_archived else
                   "AND (SELECT archived FROM conversations c"
                   " WHERE c.id = m.conversation_id) = 0")
    if all(len(term) >= TRIGRAM for term in terms):  # the trigram index finds them
        match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
        rows = conn.execute(
            f"SELECT m.id, m.conversation_id, m.content FROM messages_trigram t "
            f"CROSS JOIN messages m ON m.seq = t.rowid WHERE messages_trigram MATCH ? "
            f"{only_active} ORDER BY t.rowid DESC LIMIT ?",
            (match, limit - len(found))).fetchall()
    else:
        rows = _scan(conn, likes, limit - len(found), only_active)
    return found + [(cid, mid, snippet(content, terms)) for mid, cid, content in rows]


def _scan(conn: sqlite3.Connection, likes: list[str], limit: int,
          only_active: str) -> list[tuple[str, str, str]]:
    """Newest messages containing every term, read from the text, within SCAN_BUDGET_S
    (what was found by then is kept)."""
    where = " AND ".join("m.content LIKE ? ESCAPE '\\'" for _ in likes)
    deadline = time.perf_counter() + SCAN_BUDGET_S
    rows: list[tuple[str, str, str]] = []
    conn.set_progress_handler(lambda: time.perf_counter() > deadline, PROGRESS_STEPS)
    try:
        cursor = conn.execute(f"SELECT m.id, m.conversation_id, m.content FROM messages m "
                              f"WHERE {where} {only_active} ORDER BY m.seq DESC LIMIT ?",
                              (*likes, limit))
        for row in cursor:
            rows.append(row)
    except sqlite3.OperationalError as error:
        if "interrupt" not in str(error):
            raise
    finally:
        conn.set_progress_handler(None, 0)
    return rows
