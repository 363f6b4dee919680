"""Images attached to messages (table ``attachments``) and to drafts (``draft_images``), read
and written through the Store."""

from __future__ import annotations

import sqlite3

from tui.core.attachments import ImageFile


def add_images(conn: sqlite3.Connection, message_id: str, images: list[ImageFile]) -> None:
    conn.executemany(
        "INSERT INTO attachments (message_id, name, mime, data) VALUES (?, ?, ?, ?)",
        [(message_id, image.name, image.mime, image.data) for image in images])


def images_for(conn: sqlite3.Connection, message_ids: list[str]) -> dict[str, list[ImageFile]]:
    """Images per message id, in the order they were attached (ids without any left out)."""
    found: dict[str, list[ImageFile]] = {}
    for start in range(0, len(message_ids), 500):  # SQLite's variable limit
        chunk = message_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for message_id, name, mime, data in conn.execute(
                f"SELECT message_id, name, mime, data FROM attachments "
                f"WHERE message_id IN ({marks}) ORDER BY id", chunk):
            found.setdefault(message_id, []).append(ImageFile(name, mime, bytes(data)))
    return found


def set_draft_images(conn: sqlite3.Connection, key: str, images: dict[str, ImageFile]) -> None:
    """The draft ``key``'s images become ``images`` (chip label -> image)."""
    conn.execute("DELETE FROM draft_images WHERE conversation_id = ?", (key,))
    conn.executemany(
        "INSERT INTO draft_images (conversation_id, label, name, mime, data) "
        "VALUES (?, ?, ?, ?, ?)",
        [(key, label, image.name, image.mime, image.data) for label, image in images.items()])


def draft_images(conn: sqlite3.Connection, key: str) -> dict[str, ImageFile]:
    return {label: ImageFile(name, mime, bytes(data)) for label, name, mime, data in conn.execute(
        "SELECT label, name, mime, data FROM draft_images WHERE conversation_id = ? "
        "ORDER BY rowid", (key,))}
