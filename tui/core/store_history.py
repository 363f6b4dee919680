"""The prompts a user sent before, for the composer's ↑ recall and its history search.

Newest first: the conversation's own prompts, then every other conversation's; each text
once, at its newest place. Read through ``Store.prompt_history`` (off the event loop).
"""

from __future__ import annotations

import sqlite3

HISTORY_LIMIT = 500


def prompt_history(conn: sqlite3.Connection, conversation_id: str | None, *,
                   limit: int = HISTORY_LIMIT) -> list[str]:
    own: list[str] = []
    if conversation_id is not None:
        own = [row[0] for row in conn.execute(
            "SELECT content FROM messages WHERE conversation_id = ? AND role = 'user' "
            "ORDER BY id DESC LIMIT ?", (conversation_id, limit))]
    others = [row[0] for row in conn.execute(
        "SELECT content FROM messages WHERE role = 'user' AND conversation_id != ? "
        "ORDER BY id DESC LIMIT ?", (conversation_id or "", limit))]
    return [text for text in dict.fromkeys(own + others) if text.strip()][:limit]
