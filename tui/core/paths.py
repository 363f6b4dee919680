"""Where gpt-tui keeps its files, following platformdirs (and so XDG_* on Linux)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

import platformdirs

APP_NAME = "gpt-tui"
DB_ENV = "GPT_TUI_DB"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file_path() -> Path:
    return log_dir() / "gpt-tui.log"


def ensure_private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700 (others may not look in).

    Folders that already exist keep their mode: ``--db /tmp/x.db`` must not chmod /tmp.
    Raises OSError.
    """
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another copy of the app got there first
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask; 0700 survives it


def open_private(path: Path, *, replace: bool = False) -> TextIO:
    """``path`` opened for writing text, created with mode 0600 as the database is: an
    export holds the same conversations. ``replace``: an existing file is emptied (and
    keeps its mode), else FileExistsError. Raises OSError."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def write_private_bytes(path: Path, data: bytes) -> None:
    """``path`` (created with mode 0600, or emptied) holds ``data``. Raises OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def default_db_path() -> Path:
    return data_dir() / "gpt-tui.db"


def config_file_path() -> Path:
    return config_dir() / "config.toml"


def resolve_db_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """``--db`` wins over ``GPT_TUI_DB``, which wins over the platform default."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return default_db_path()
