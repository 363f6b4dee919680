"""Images attached to messages (table ``attachments``), read and written through the Store."""

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
