"""Schema upgrades in place, and files the store must refuse without touching them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui.core import ids
from tui.core.migrations import MIGRATIONS, SCHEMA_VERSION, migrate, user_version
from tui.core.store import DatabaseCorrupt, DatabaseTooNew, Store, StoreError


def _old_file(path: Path, version: int) -> tuple[str, str]:
    """A file at schema ``version`` holding one conversation with one message."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=version)
    cid, mid = ids.new_ulid(), ids.new_ulid()
    conn.execute("INSERT INTO conversations (id, title, model, created, updated) "
                 "VALUES (?, 'Old talk', 'gpt-4', '2024-01-01T00:00:00.000Z', "
                 "'2024-01-01T00:00:00.000Z')", (cid,))
    conn.execute("INSERT INTO messages (id, conversation_id, role, content, created) "
                 "VALUES (?, ?, 'user', 'ancient wisdom', '2024-01-01T00:00:00.000Z')",
                 (mid, cid))
    conn.close()
    return cid, mid


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_older_version_upgrades_in_place(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    cid, mid = _old_file(path, version)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.get_conversation(cid).title == "Old talk"
        assert [m.id for m in store.load_messages(cid)] == [mid]
        # Data that predates the search index is searchable after the upgrade.
        assert [h.message_id for h in store.search("wisdom")] == [mid]
        assert [h.conversation.id for h in store.search("old talk")] == [cid]
        store.set_model_window("gpt-4", 8192, source="test")
        assert store.get_model_window("gpt-4") == 8192
    with sqlite3.connect(path) as conn:
        assert user_version(conn) == SCHEMA_VERSION


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    assert migrate(conn) == 0
    assert migrate(conn) == SCHEMA_VERSION
    assert user_version(conn) == len(MIGRATIONS)
    conn.close()


def test_failed_step_leaves_previous_version(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "t.db"
    _old_file(path, 1)
    import tui.core.migrations as migrations

    broken = (*MIGRATIONS[:2], ("CREATE TABLE model_windows (x)", "THIS IS NOT SQL"))
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.Error):
        migrate(conn, target=3)
    assert user_version(conn) == 1
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts'"
                        ).fetchone()[0] == 0
    conn.close()


def test_newer_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with Store(path) as store:
        store.create_conversation(model="m", title="from the future")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    siblings = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DatabaseTooNew, match="newer gpt-tui"):
        Store(path)
    with pytest.raises(DatabaseTooNew):
        Store(path, create=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings


@pytest.mark.parametrize("content", [
    b"this is a text file, not a database\n" * 50,
    b"SQLite format 3\x00" + bytes(range(256)) * 20,
    bytes(4096),
], ids=["text", "bad-pages", "zeros"])
def test_corrupt_file_is_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "bad.db"
    path.write_bytes(content)
    for create in (True, False):
        with pytest.raises(DatabaseCorrupt, match="not a valid gpt-tui database"):
            Store(path, create=create)
    assert path.read_bytes() == content
    assert [p.name for p in folder.iterdir()] == ["bad.db"]


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a gpt-tui one"):
        Store(path)
    assert path.read_bytes() == before


def test_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)
