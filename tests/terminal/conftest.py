"""Fixtures for the terminal layer: the installed ``gpt-tui`` on a pty, its own folders.

Each app gets the XDG folders ``isolated_env`` made for the test (and a state folder beside
them, for the log file), a database in the test's temp folder, the test server as its base
URL (unless a test wants the first-run screen), and ``TERM=xterm-256color``. Where there is no pty (Windows, a sandbox without /dev/ptmx) or no
installed script, the tests skip with the reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.terminal.harness import Terminal, installed_gpt_tui

_CHILD_ENV_DROP = ("OPENAI_", "GPT_TUI_", "TEXTUAL", "COLUMNS", "LINES")


def _skip_reason() -> str | None:
    if sys.platform == "win32":
        return "no pseudo-terminals on Windows"
    try:
        import pyte  # noqa: F401
    except ImportError:
        return "pyte is not installed (pip install -e '.[test]')"
    try:
        master, slave = os.openpty()
    except OSError as error:
        return f"no pseudo-terminal available: {error}"
    os.close(master)
    os.close(slave)
    binary = installed_gpt_tui()
    if not binary.exists():
        if os.environ.get("GPT_TUI_TERMINAL_BIN"):
            return f"GPT_TUI_TERMINAL_BIN points at {binary}, which does not exist"
        return f"the gpt-tui script is not installed next to {sys.executable}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that starts the app: the layer runs by default, `-m "not terminal"`
    leaves it out."""
    for item in items:
        if "gpt_tui_bin" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.terminal)


@pytest.fixture(scope="session")
def gpt_tui_bin() -> Path:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    return installed_gpt_tui()


class LaunchApp(Protocol):
    def __call__(self, *args: str, size: tuple[int, int] = ..., server: bool = ...,
                 env: dict[str, str] | None = ...) -> Terminal: ...


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "chats.db"


@pytest.fixture
def launch(gpt_tui_bin: Path, fake_openai, db_path: Path, tmp_path: Path,
           isolated_env: Path) -> Iterator[LaunchApp]:
    """Start ``gpt-tui --db <temp db> ARGS`` on an 80x24 pty (by default); closed at the end."""
    started: list[Terminal] = []

    def start(*args: str, size: tuple[int, int] = (80, 24), server: bool = True,
              env: dict[str, str] | None = None) -> Terminal:
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(_CHILD_ENV_DROP)}
        child_env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8",
                         # The log file lives in the state folder: keep it out of $HOME.
                         XDG_STATE_HOME=str(isolated_env / "state"))
        if server:
            child_env["OPENAI_BASE_URL"] = fake_openai.base_url
        child_env.update(env or {})
        terminal = Terminal([str(gpt_tui_bin), "--db", str(db_path), *args], env=child_env,
                            cwd=tmp_path, size=size)
        started.append(terminal)
        return terminal

    try:
        yield start
    finally:
        for terminal in started:
            terminal.close()
