"""What the store remembers about servers: their windows, their token counts, calibration.

Kept apart from store.py (conversations and messages) because it is keyed differently: by
the server (its base URL, sanitized so credentials never reach the file) and the model.
Functions take a connection; :class:`tui.core.store.Store` wraps them with its lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from tui.core.hosts import sanitize_url
from tui.core.models import utc_now

LEGACY_SERVER = ""  # rows from before windows belonged to a server: apply to any server


@dataclass
class StoredWindow:
    base_url: str  # sanitized; "" for a row learned before version 4 (any server)
    model: str
    context_window: int
    source: str
    updated: str
    # The smallest prompt refused without numbers (tui.core.accepted_window); None: none.
    refused: int | None = None


def _source(source: str) -> str:
    """Old spellings ("server error") map to the current names."""
    return "error" if "error" in source else source


def set_window(conn: sqlite3.Connection, base_url: str, model: str, context_window: int,
               source: str, refused: int | None = None) -> None:
    """Upsert the window; ``refused`` (None: keep the one stored) is stored as the smaller of
    it and the one stored."""
    conn.execute(
        "INSERT INTO server_windows (base_url, model, context_window, source, updated, refused)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (base_url, model) DO UPDATE SET "
        "context_window = excluded.context_window, source = excluded.source, "
        "updated = excluded.updated, "
        "refused = min(coalesce(excluded.refused, server_windows.refused), "
        "coalesce(server_windows.refused, excluded.refused))",
        (sanitize_url(base_url) if base_url else LEGACY_SERVER, model, int(context_window),
         _source(source), utc_now(), None if refused is None else int(refused)))


def set_refused(conn: sqlite3.Connection, base_url: str, model: str, tokens: int) -> None:
    """A prompt of ``tokens`` was refused without numbers: kept if smaller than the one
    stored. Only on a row there is (a refusal before any size was taken is kept with the
    size taken, by set_window)."""
    conn.execute("UPDATE server_windows SET refused = min(coalesce(refused, ?), ?) "
                 "WHERE base_url = ? AND model = ?",
                 (int(tokens), int(tokens),
                  sanitize_url(base_url) if base_url else LEGACY_SERVER, model))


def get_window(conn: sqlite3.Connection, base_url: str | None,
               model: str) -> StoredWindow | None:
    """This server's window for ``model``, else one learned before windows had a server."""
    keys = [sanitize_url(base_url)] if base_url else []
    keys.append(LEGACY_SERVER)
    for key in keys:
        row = conn.execute(
            "SELECT base_url, model, context_window, source, updated, refused "
            "FROM server_windows WHERE base_url = ? AND model = ?", (key, model)).fetchone()
        if row is not None:
            return StoredWindow(row[0], row[1], int(row[2]), _source(row[3]), row[4], row[5])
    return None


def list_windows(conn: sqlite3.Connection) -> list[StoredWindow]:
    rows = conn.execute("SELECT base_url, model, context_window, source, updated, refused "
                        "FROM server_windows ORDER BY model, base_url")
    return [StoredWindow(r[0], r[1], int(r[2]), _source(r[3]), r[4], r[5]) for r in rows]


def forget_window(conn: sqlite3.Connection, model: str, base_url: str | None = None) -> int:
    """Forget what was learned for ``model`` (on one server, or everywhere); rows removed."""
    if base_url is None:
        cursor = conn.execute("DELETE FROM server_windows WHERE model = ?", (model,))
    else:
        cursor = conn.execute("DELETE FROM server_windows WHERE model = ? AND base_url IN (?, ?)",
                              (model, sanitize_url(base_url), LEGACY_SERVER))
    return cursor.rowcount


def cached_counts(conn: sqlite3.Connection, tokenizer: str,
                  digests: Iterable[str]) -> dict[str, int]:
    wanted = list(dict.fromkeys(digests))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start:start + 500]
        marks = ", ".join("?" * len(part))
        rows = conn.execute(f"SELECT digest, tokens FROM token_cache WHERE tokenizer = ? "
                            f"AND digest IN ({marks})", (tokenizer, *part))
        found.update((d, int(t)) for d, t in rows)
    return found


def cache_counts(conn: sqlite3.Connection, tokenizer: str, counts: dict[str, int]) -> None:
    conn.executemany("INSERT OR REPLACE INTO token_cache (tokenizer, digest, tokens) "
                     "VALUES (?, ?, ?)", [(tokenizer, d, int(n)) for d, n in counts.items()])


def get_calibration(conn: sqlite3.Connection, base_url: str, model: str) -> dict | None:
    row = conn.execute("SELECT state FROM token_calibration WHERE base_url = ? AND model = ?",
                       (sanitize_url(base_url), model)).fetchone()
    if row is None:
        return None
    try:
        state = json.loads(row[0])
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


def set_calibration(conn: sqlite3.Connection, base_url: str, model: str, state: dict) -> None:
    conn.execute(
        "INSERT INTO token_calibration (base_url, model, state, updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (base_url, model) DO UPDATE SET state = excluded.state, "
        "updated = excluded.updated",
        (sanitize_url(base_url), model, json.dumps(state), utc_now()))
