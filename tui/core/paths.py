"""Where gpt-tui keeps its files, following platformdirs (and so XDG_* on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "gpt-tui"
DB_ENV = "GPT_TUI_DB"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


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
