"""Schema versions of the store, applied in order and recorded in ``PRAGMA user_version``.

Each step moves the file from version ``n`` to ``n + 1`` inside one write transaction, so an
interrupted upgrade leaves the previous version intact. Steps are append-only: a released step
is never edited, a change to the schema is a new step at the end.

Tables keep an ``INTEGER PRIMARY KEY`` (``seq``) next to the public ULID ``id`` because the
external-content FTS5 indexes are keyed by rowid, and only a declared integer key is stable
across ``VACUUM``.

Steps 1-7 live in :mod:`tui.core.migration_steps_early`; the later ones, the list that orders
them all and the runner are here.
"""

from __future__ import annotations

import sqlite3

from tui.core.migration_steps_early import V1 as _V1
from tui.core.migration_steps_early import V2 as _V2
from tui.core.migration_steps_early import V3 as _V3
from tui.core.migration_steps_early import V4_DRAFTS as _V4_DRAFTS
from tui.core.migration_steps_early import V5_SERVERS as _V5_SERVERS
from tui.core.migration_steps_early import V6_TREE as _V6_TREE
from tui.core.migration_steps_early import V7_CJK_SEARCH as _V7_CJK_SEARCH

# Issue 11: every request parameter per conversation: JSON output (response_format) and a
# server's own knobs (top_k, min_p...) as a JSON object of scalars.
_CHAT_PARAMS = (
    "ALTER TABLE conversations ADD COLUMN json_output INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE conversations ADD COLUMN extra_params TEXT NOT NULL DEFAULT '{}'",
)

# Issue 11: personas, named bundles of chat settings (tui.core.personas). The name is
# unique whatever its case; an empty model means "the session's model".
_PERSONAS = (
    """
    CREATE TABLE personas (
        seq INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        model TEXT NOT NULL DEFAULT '',
        system_prompt TEXT NOT NULL DEFAULT '',
        strategy TEXT NOT NULL DEFAULT 'summarize',
        temperature REAL,
        top_p REAL,
        max_output_tokens INTEGER,
        context_window INTEGER,
        json_output INTEGER NOT NULL DEFAULT 0,
        extra_params TEXT NOT NULL DEFAULT '{}',
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )
    """,
)

# Issue 11: usage per reply. Cached prompt tokens as the server reported them, the time to
# the first token and the whole reply (ms, for tokens/s), and the server that answered
# (sanitized base URL: no credentials), which prices the reply. NULL: not known.
_REPLY_USAGE = (
    "ALTER TABLE messages ADD COLUMN cached_tokens INTEGER",
    "ALTER TABLE messages ADD COLUMN first_token_ms INTEGER",
    "ALTER TABLE messages ADD COLUMN duration_ms INTEGER",
    "ALTER TABLE messages ADD COLUMN server TEXT",
)

# Issue 12: images attached to a message (text files are inside the message's text), kept so
# the conversation can be re-sent, exported and imported with them.
_ATTACHMENTS = (
    """
    CREATE TABLE attachments (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        mime TEXT NOT NULL,
        data BLOB NOT NULL
    )
    """,
    "CREATE INDEX attachments_by_message ON attachments (message_id, id)",
)

# Usage of the requests that are not replies: summaries of old turns and model-written titles
# cost tokens too, and the usage totals count them (kind: "summary" or "title"). NULL tokens:
# the server sent no usage.
_SIDE_REQUEST_USAGE = (
    """
    CREATE TABLE side_requests (
        id INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        model TEXT NOT NULL,
        server TEXT,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cached_tokens INTEGER,
        created TEXT NOT NULL
    )
    """,
    "CREATE INDEX side_requests_by_conversation ON side_requests (conversation_id, created)",
)

# Re-importing a conversation that grew since (a newer ChatGPT export) adds its new messages:
# ``source_updated`` is the source's own last-update time when it was imported, so an
# unchanged source is left alone (nothing the user deleted here comes back). NULL: imported
# before this step.
_IMPORT_UPDATES = (
    "ALTER TABLE imports ADD COLUMN source_updated TEXT",
)

# Images attached to a draft, kept with its text so they come back after a restart (issue
# 12); keyed like drafts (the new chat's is ''), one row per chip label in the draft.
_DRAFT_IMAGES = (
    """
    CREATE TABLE draft_images (
        conversation_id TEXT NOT NULL,
        label TEXT NOT NULL,
        name TEXT NOT NULL,
        mime TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (conversation_id, label)
    )
    """,
    """
    CREATE TRIGGER draft_images_follow_conversations AFTER DELETE ON conversations BEGIN
        DELETE FROM draft_images WHERE conversation_id = old.id;
    END
    """,
)

# The process writing each streaming reply (tui.core.reply_writers), so a reply left
# ``streaming`` by a process that was killed is closed as ``interrupted`` the next time the
# store opens. Replies streaming when this step runs have no writer recorded: they were left
# by a process that ended (a program still writing one stores its end over this).
_REPLY_WRITERS = (
    """
    CREATE TABLE reply_writers (
        message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started INTEGER
    )
    """,
    "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'",
)

# The smallest prompt (tokens) a server refused as too long without naming its window or the
# prompt's count (tui.core.accepted_window), beside the size it took: a later process (each
# `gpt-tui ask` is one) still tries sizes between the two instead of keeping to the first size
# taken for good. NULL: none refused.
_REFUSED_SIZES = (
    "ALTER TABLE server_windows ADD COLUMN refused INTEGER",
)

# The word index, like the trigram one (step 7), takes a reply once it stops streaming: each
# half-second flush of a streaming reply re-indexed all of its text, ~11 ms a flush for a
# 20k-token reply (80 KB), on the event loop, a cost per token that grew with the reply.
# Rows streaming now leave the index; a status change (complete, interrupted, error) indexes.
_WORD_INDEX_AFTER_STREAMING = (
    "DROP TRIGGER messages_fts_insert",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_update",
    """
    INSERT INTO messages_fts (messages_fts, rowid, content)
    SELECT 'delete', seq, content FROM messages WHERE status = 'streaming'
    """,
    """
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
    WHEN new.status != 'streaming' BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
    END
    """,
    """
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.status != 'streaming' BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.seq, old.content);
    END
    """,
    """
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status ON messages
    WHEN old.content IS NOT new.content OR old.status IS NOT new.status BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.seq, old.content WHERE old.status != 'streaming';
        INSERT INTO messages_fts (rowid, content)
        SELECT new.seq, new.content WHERE new.status != 'streaming';
    END
    """,
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _V1, _V2, _V3, _V4_DRAFTS, _V5_SERVERS, _V6_TREE, _V7_CJK_SEARCH, _CHAT_PARAMS, _PERSONAS,
    _REPLY_USAGE, _ATTACHMENTS, _SIDE_REQUEST_USAGE, _IMPORT_UPDATES, _DRAFT_IMAGES,
    _REPLY_WRITERS, _REFUSED_SIZES, _WORD_INDEX_AFTER_STREAMING)
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the file up to ``target``; returns the version it was at.

    ``conn`` must be in autocommit mode (``isolation_level=None``). The version is re-read
    under the write lock, so two programs opening an old file at once upgrade it only once.
    """
    if user_version(conn) >= target:
        return user_version(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        start = user_version(conn)
        for version in range(start, target):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return start
