"""The database is private: the file, its WAL and SHM files 0600, a folder it creates 0700."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tui.core.paths import default_db_path
from tui.core.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_files_and_folder_are_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the common default: would give 0644 / 0755
    try:
        path = default_db_path()
        assert not path.parent.exists()
        with Store(path) as store:
            store.create_conversation(model="m")
            wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
            assert wal.exists() and shm.exists()
            assert {p.name: mode(p) for p in (path, wal, shm)} == {
                path.name: 0o600, wal.name: 0o600, shm.name: 0o600}
        assert mode(path.parent) == 0o700
    finally:
        os.umask(old_umask)


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    with Store(shared / "chat.db"):
        pass
    assert mode(shared) == 0o755
    assert mode(shared / "chat.db") == 0o600


def test_nested_missing_folders_are_all_private(tmp_path: Path) -> None:
    with Store(tmp_path / "a" / "b" / "chat.db"):
        pass
    assert (mode(tmp_path / "a"), mode(tmp_path / "a" / "b")) == (0o700, 0o700)
