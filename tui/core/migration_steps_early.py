"""Schema steps 1-7 of the store: the base tables, search, drafts, servers and the tree.

These are the steps released before issue 11, kept apart from the runner and the later
steps so each file stays readable. ``tui.core.migrations`` lists them in order and applies
them; like every released step they are never edited. Each is a tuple of SQL statements
run in order inside the upgrade's one transaction.
"""

from __future__ import annotations

# Version 1: conversations, messages and rolling summaries.
V1 = (
    """
    CREATE TABLE conversations (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        strategy TEXT NOT NULL DEFAULT 'summarize',
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        archived INTEGER NOT NULL DEFAULT 0,
        temperature REAL,
        top_p REAL,
        max_output_tokens INTEGER,
        context_window INTEGER,
        token_correction REAL NOT NULL DEFAULT 0
    )
    """,
    """
    CREATE INDEX conversations_listing
    ON conversations (archived, pinned DESC, updated DESC, id DESC)
    """,
    "CREATE INDEX conversations_updated ON conversations (updated DESC, id DESC)",
    """
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        model TEXT,
        status TEXT NOT NULL DEFAULT 'complete',
        token_count INTEGER,
        token_encoding TEXT,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        finish_reason TEXT,
        error TEXT
    )
    """,
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, id)",
    """
    CREATE TABLE summaries (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        content TEXT NOT NULL,
        first_message_id TEXT NOT NULL,
        last_message_id TEXT NOT NULL,
        covered_count INTEGER NOT NULL,
        token_count INTEGER,
        model TEXT,
        created TEXT NOT NULL,
        previous_summary_id TEXT
    )
    """,
    "CREATE INDEX summaries_by_conversation ON summaries (conversation_id, id)",
)

# Version 2: full-text search over titles and message content, kept in sync by triggers.
# Only a change of the indexed column touches the index, so the frequent status/token
# updates of a streaming reply cost nothing here. The 3-character prefix index keeps
# as-you-type prefix queries fast (see tui.core.store_search).
V2 = (
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='seq',
        tokenize='unicode61 remove_diacritics 2', prefix='3'
    )
    """,
    """
    CREATE VIRTUAL TABLE conversations_fts USING fts5(
        title, content='conversations', content_rowid='seq',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
    END
    """,
    """
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.seq, old.content);
    END
    """,
    """
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
    WHEN old.content IS NOT new.content BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.seq, old.content);
        INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, new.title);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.seq, old.title);
    END
    """,
    """
    CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations
    WHEN old.title IS NOT new.title BEGIN
        INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.seq, old.title);
        INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, new.title);
    END
    """,
    # Index whatever an older file already holds.
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
    "INSERT INTO conversations_fts (conversations_fts) VALUES ('rebuild')",
)

# Version 3: context windows learned from servers (error messages, /props).
V3 = (
    """
    CREATE TABLE model_windows (
        model TEXT PRIMARY KEY,
        context_window INTEGER NOT NULL,
        source TEXT NOT NULL,
        updated TEXT NOT NULL
    )
    """,
)

# Version 4: the composer's unsent text, one draft per conversation (the key '' is the new
# chat not stored yet), so a draft survives a restart. No foreign key, because the new chat
# has no row; a trigger drops a conversation's draft with it instead.
V4_DRAFTS = (
    """
    CREATE TABLE drafts (
        conversation_id TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        updated TEXT NOT NULL
    )
    """,
    """
    CREATE TRIGGER drafts_follow_conversations AFTER DELETE ON conversations BEGIN
        DELETE FROM drafts WHERE conversation_id = old.id;
    END
    """,
)

# Version 5 (issue 8): windows belong to a server, pinned messages, counts a server gave.
# Learned windows are keyed by (sanitized base URL, model); the rows of version 3 are kept
# with base_url '' and still apply to any server that has no window of its own. The token
# cache keeps what a server's /tokenize said for a piece of text (by digest), so a plan on
# llama.cpp or vLLM is exact without asking again; calibration keeps, per server and model,
# how the server's counts relate to the local ones where it cannot tokenize for us.
V5_SERVERS = (
    """
    CREATE TABLE server_windows (
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        context_window INTEGER NOT NULL,
        source TEXT NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (base_url, model)
    )
    """,
    """
    INSERT INTO server_windows (base_url, model, context_window, source, updated)
    SELECT '', model, context_window, source, updated FROM model_windows
    """,
    "ALTER TABLE messages ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0",
    """
    CREATE TABLE token_cache (
        tokenizer TEXT NOT NULL,
        digest TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        PRIMARY KEY (tokenizer, digest)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE token_calibration (
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        state TEXT NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (base_url, model)
    )
    """,
)

# Version 6 (issue 10): the conversation is a tree. Every message has a parent (NULL for a
# root) and a conversation has one active path, from a root to ``active_leaf_id``. The upgrade
# is lossless: each message's parent is the one stored before it in its conversation, and
# the active leaf is the newest message, so every existing chat is one path, as before.
# Deleting a message takes the branch below it (the self-referencing cascade; the FTS
# triggers fire for each row it deletes). A plain ``ALTER TABLE ... ADD COLUMN`` suffices
# for both columns (SQLite accepts a REFERENCES clause on an added NULL column): rebuilding
# ``messages`` with sqlite-utils' ``transform()`` would drop and re-create the table and with
# it the search triggers, for nothing gained. ``imports`` remembers where an imported
# conversation came from (a ChatGPT conversation id, a gpt-tui export's id), so importing
# the same file twice adds nothing.
V6_TREE = (
    "ALTER TABLE messages ADD COLUMN parent_id TEXT "
    "REFERENCES messages (id) ON DELETE CASCADE",
    "ALTER TABLE conversations ADD COLUMN active_leaf_id TEXT",
    """
    UPDATE messages SET parent_id = (
        SELECT p.id FROM messages AS p
        WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id
        ORDER BY p.id DESC LIMIT 1)
    """,
    "CREATE INDEX messages_by_parent ON messages (parent_id, id)",
    """
    UPDATE conversations SET active_leaf_id = (
        SELECT max(m.id) FROM messages AS m WHERE m.conversation_id = conversations.id)
    """,
    """
    CREATE TABLE imports (
        source_id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        imported TEXT NOT NULL
    )
    """,
    "CREATE INDEX imports_by_conversation ON imports (conversation_id)",
)

# Version 7 (issue 10): search inside Chinese, Japanese and Korean text. unicode61 makes a
# whole CJK run one token; a second external-content index over the same messages with
# FTS5's trigram tokenizer finds any substring of 3+ characters (tui.core.store_search_cjk).
# A trigram index is several times bigger than a word index, so a reply is indexed once it
# stops streaming, not at every flush of its text: the triggers skip rows whose status is
# 'streaming' (what they index and un-index stays the same set, as an external-content
# index needs).
V7_CJK_SEARCH = (
    """
    CREATE VIRTUAL TABLE messages_trigram USING fts5(
        content, content='messages', content_rowid='seq', tokenize='trigram'
    )
    """,
    """
    CREATE TRIGGER messages_trigram_insert AFTER INSERT ON messages
    WHEN new.status != 'streaming' BEGIN
        INSERT INTO messages_trigram (rowid, content) VALUES (new.seq, new.content);
    END
    """,
    """
    CREATE TRIGGER messages_trigram_delete AFTER DELETE ON messages
    WHEN old.status != 'streaming' BEGIN
        INSERT INTO messages_trigram (messages_trigram, rowid, content)
        VALUES ('delete', old.seq, old.content);
    END
    """,
    """
    CREATE TRIGGER messages_trigram_update AFTER UPDATE OF content, status ON messages
    WHEN old.content IS NOT new.content OR old.status IS NOT new.status BEGIN
        INSERT INTO messages_trigram (messages_trigram, rowid, content)
        SELECT 'delete', old.seq, old.content WHERE old.status != 'streaming';
        INSERT INTO messages_trigram (rowid, content)
        SELECT new.seq, new.content WHERE new.status != 'streaming';
    END
    """,
    """
    INSERT INTO messages_trigram (rowid, content)
    SELECT seq, content FROM messages WHERE status != 'streaming'
    """,
)
