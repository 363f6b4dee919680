"""The store's failures, and how a file is vetted before SQLite may write to it.

Every error's ``str()`` is one line a user can act on. The vetting exists because of a
promise: a corrupt file, or one from a newer gpt-tui, is reported and left byte-for-byte as
it was. Even a read through a read-write connection can change a file (closing it may
checkpoint another program's write-ahead log into it), so the 100-byte header is checked
directly, and when a WAL file exists the version is read through a read-only connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui.core.migrations import SCHEMA_VERSION, user_version

_MAGIC = b"SQLite format 3\x00"


class StoreError(Exception):
    """Base of every store failure; ``str(e)`` is one clear line for the user."""


class DatabaseCorrupt(StoreError):
    """Not a database, or a malformed one. The file is left untouched."""


class DatabaseTooNew(StoreError):
    """Written by a newer gpt-tui. The file is left untouched."""


class DatabaseLocked(StoreError):
    """Another program held the write lock past the busy timeout."""


class NoDatabase(StoreError):
    """``create=False`` and there is no database file (read-only commands show nothing)."""


class NotFound(StoreError, KeyError):
    """Unknown conversation or message id (or prefix)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class AmbiguousId(StoreError):
    """An id prefix that matches several conversations."""


def translate_error(error: sqlite3.Error, path: Path) -> StoreError:
    """One user-facing line for an SQLite failure."""
    text = str(error)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseLocked(f"database {path} is locked by another program (timed out)")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return DatabaseCorrupt(f"{path} is not a valid gpt-tui database ({text})")
    if "unable to open" in lowered or "readonly" in lowered or "disk i/o" in lowered:
        return StoreError(f"cannot use database {path}: {text}")
    if type(error) is sqlite3.DatabaseError:
        return DatabaseCorrupt(f"{path} is not a valid gpt-tui database ({text})")
    return StoreError(f"database error in {path}: {text}")


def too_new(path: Path, version: int) -> DatabaseTooNew:
    return DatabaseTooNew(
        f"{path} was written by a newer gpt-tui (schema {version}, this one knows up to "
        f"{SCHEMA_VERSION}); upgrade gpt-tui to open it")


def vet_file(path: Path) -> None:
    """Raise DatabaseCorrupt / DatabaseTooNew / StoreError without writing anything."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return
    except OSError as error:
        raise StoreError(f"cannot read database {path}: {error.strerror}") from None
    if not header:
        return  # an empty file is an empty database
    page_size = int.from_bytes(header[16:18], "big")
    valid_page_size = page_size == 1 or (512 <= page_size <= 32768
                                         and page_size & (page_size - 1) == 0)
    if (len(header) < 100 or not header.startswith(_MAGIC) or not valid_page_size
            or header[21:24] != b"\x40\x20\x20"):
        raise DatabaseCorrupt(f"{path} is not a valid gpt-tui database (not an SQLite file)")
    version = int.from_bytes(header[60:64], "big")
    if version > SCHEMA_VERSION:
        raise too_new(path, version)
    if Path(f"{path}-wal").exists():
        try:
            probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                version = user_version(probe)
            finally:
                probe.close()
        except sqlite3.Error as error:
            raise translate_error(error, path) from None
        if version > SCHEMA_VERSION:
            raise too_new(path, version)
