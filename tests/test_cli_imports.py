"""Each command imports only what it uses, checked in a fresh interpreter per command.

Importing the openai SDK costs ~0.7 s and Textual ~0.3 s of start-up: ``--version``,
``list``, ``search`` and ``export`` need neither, ``ask`` needs the SDK but not Textual.
A module-level import added in the wrong place (cli.py, a command's module, the store)
makes one of these fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core.store import Store

ROOT = Path(__file__).resolve().parents[1]

# Runs one command in this interpreter, then prints the top-level packages it loaded.
PROBE = """
import contextlib, io, json, sys
from tui.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""
HEAVY = {"openai", "textual", "tiktoken", "httpx2", "pydantic", "rich"}


def loaded(env: dict[str, str], *args: str) -> tuple[int, set[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    db = tmp_path / "chats.db"
    with Store(db) as store:
        chat = store.create_conversation(model="gpt-4o", title="Reversing lists")
        store.append_message(chat.id, "user", "How do I reverse a list in python?")
    return {**os.environ, "GPT_TUI_DB": str(db), "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("args", [
    ["--version"], ["--help"], ["list"], ["list", "--json", "--all"], ["search", "reverse"],
    ["export", "--last"], ["windows"], ["strategy", "0"],
])
def test_read_only_commands_load_neither_the_sdk_nor_textual(env, args):
    code, modules = loaded(env, *args)
    assert code in (0, 2), args  # `strategy 0`: no such conversation, still a clean exit
    assert modules & HEAVY == set(), args


def test_version_loads_no_database_or_config_machinery(env):
    code, modules = loaded(env, "--version")
    assert code == 0
    assert modules & {"sqlite3", "sqlite_utils", "asyncio", "platformdirs", "tomllib"} == set()


def test_list_does_not_load_sqlite_utils_or_asyncio(env):
    code, modules = loaded(env, "list")
    assert code == 0
    assert modules & {"sqlite_utils", "asyncio", "click", "dateutil"} == set()


def test_ask_loads_the_sdk_but_not_textual(env, fake_openai):
    fake_openai.script(Script.reply("Use reversed()."))
    env = {**env, "OPENAI_BASE_URL": fake_openai.base_url}
    code, modules = loaded(env, "ask", "How do I reverse a list?")
    assert code == 0
    assert "openai" in modules
    assert modules & {"textual", "rich"} == set()
