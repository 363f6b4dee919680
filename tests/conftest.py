"""Shared fixtures: every test runs with its own config, data and cache folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_TIKTOKEN = Path(__file__).resolve().parents[1].parent / "shared" / "tiktoken"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point XDG dirs at a temp folder and drop the caller's API settings.

    XDG_STATE_HOME holds the log file; a log set up by a test is closed after it.
    """
    home = tmp_path / "home"
    for name, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                      ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(home / sub))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GPT_TUI_DB", "GPT_TUI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    if "TIKTOKEN_CACHE_DIR" not in os.environ and SHARED_TIKTOKEN.is_dir():
        monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(SHARED_TIKTOKEN))
    yield home
    from tui.core.logs import reset_logging

    reset_logging()


@pytest.fixture
def fake_openai():
    """A running OpenAI-compatible test server on 127.0.0.1 with a random port."""
    from tests.fake_openai.server import FakeOpenAI

    server = FakeOpenAI()
    server.start()
    try:
        yield server
    finally:
        server.stop()
