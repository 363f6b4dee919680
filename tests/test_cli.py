"""The read-only commands (list, export, search) through a real `python -m tui` process.

Exit codes, one-line errors without tracebacks, and database files left exactly as they
were. A few wiring checks (the app launcher) run in-process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tui import __version__, cli, listing_commands
from tui.core.migrations import SCHEMA_VERSION
from tui.core.store import Store

ROOT = Path(__file__).resolve().parents[1]


def gpt(db: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GPT_TUI_DB": str(db), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=60, stdin=subprocess.DEVNULL)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int,
                          contains: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpt-tui: error: "), result.stderr
    assert contains in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "chats.db"
    with Store(path) as store:
        a = store.create_conversation(model="gpt-4o", title="Python tips")
        store.append_message(a.id, "user", "How do I reverse a list in python?")
        reply = store.append_message(a.id, "assistant", "Use `reversed()` or `[::-1]`.")
        store.update_message(reply.id, prompt_tokens=12, completion_tokens=9)
        store.update_conversation(a.id, updated="2026-01-02T00:00:00.000Z")
        b = store.create_conversation(model="llama3", title="Dinner plans")
        store.append_message(b.id, "user", "pasta tonight?")
        store.update_conversation(b.id, updated="2026-01-01T00:00:00.000Z", pinned=True)
        c = store.create_conversation(model="m", title="Archived python notes")
        store.update_conversation(c.id, updated="2026-01-03T00:00:00.000Z", archived=True)
    return path


def ids_by_title(db: Path) -> dict[str, str]:
    with Store(db) as store:
        return {c.title: c.id for c in store.list_conversations(archived=None)}


def test_missing_database_lists_nothing_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "none.db"
    result = gpt(db, "list")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "", "gpt-tui: no conversations yet\n")
    result = gpt(db, "search", "python")
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", "gpt-tui: nothing matches 'python'\n")
    assert json.loads(gpt(db, "list", "--json").stdout) == []
    assert_one_line_error(gpt(db, "export", "01ABC"), 2, "no conversation with id")
    assert not db.parent.exists()


def test_list_table_and_json(db: Path) -> None:
    ids = ids_by_title(db)
    result = gpt(db, "list")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "MSGS", "MODEL", "TITLE"]
    # Pinned first (marked *), then most recently updated; archived hidden.
    assert [line.split("  ")[-1] for line in lines[1:]] == ["Dinner plans", "Python tips"]
    assert lines[1].split()[4:6] == ["*", "llama3"]
    assert lines[1].startswith(ids["Dinner plans"][:8])
    assert " 2 " in lines[2]  # message count
    records = json.loads(gpt(db, "list", "--json", "--all").stdout)
    assert [r["title"] for r in records] == ["Dinner plans", "Archived python notes",
                                             "Python tips"]
    assert records[2]["id"] == ids["Python tips"] and records[2]["message_count"] == 2
    assert records[0]["pinned"] is True and records[1]["archived"] is True


def test_export_by_prefix_to_stdout_and_file(db: Path, tmp_path: Path) -> None:
    ids = ids_by_title(db)
    result = gpt(db, "export", ids["Python tips"].lower())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Python tips\n")
    assert "Use `reversed()` or `[::-1]`." in result.stdout
    assert "12 prompt + 9 completion" in result.stdout
    out = tmp_path / "out.json"
    result = gpt(db, "export", ids["Dinner plans"], "-o", str(out))
    assert (result.returncode, result.stdout) == (0, "")
    document = json.loads(out.read_text())
    assert document["conversation"]["title"] == "Dinner plans"
    assert [m["content"] for m in document["messages"]] == ["pasta tonight?"]
    last = gpt(db, "export", "--last", "--format", "json")
    assert json.loads(last.stdout)["conversation"]["title"] == "Python tips"


def test_export_to_dash_is_stdout(db: Path, tmp_path: Path) -> None:
    # "-o -" wrote a file named "-" in the current folder.
    ids = ids_by_title(db)
    here = tmp_path / "here"
    here.mkdir()
    result = gpt(db, "export", ids["Python tips"], "-o", "-", cwd=here)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Python tips\n")
    assert list(here.iterdir()) == []
    assert_one_line_error(gpt(db, "export", "--all", "-o", "-", cwd=here), 2,
                          "name a folder")
    assert list(here.iterdir()) == []


def test_export_errors(db: Path) -> None:
    assert_one_line_error(gpt(db, "export", "ZZZZZZ"), 2, "no conversation with id")
    assert_one_line_error(gpt(db, "export", "0"), 2, "matches several conversations")
    assert_one_line_error(gpt(db, "export"), 2, "one of the arguments")
    assert_one_line_error(gpt(db, "export", "x", "--format", "pdf"), 2, "invalid choice")


def test_search_plain_markers_and_json(db: Path) -> None:
    ids = ids_by_title(db)
    result = gpt(db, "search", "python")
    assert result.returncode == 0, result.stderr
    assert "**Python** tips" in result.stdout
    assert "reverse a list in **python**?" in result.stdout
    assert "\x1b[" not in result.stdout and "\x02" not in result.stdout
    hits = json.loads(gpt(db, "search", "python", "--json", "--active").stdout)
    assert {h["conversation_id"] for h in hits} == {ids["Python tips"]}
    assert {h["in"] for h in hits} == {"title", "message"}
    nothing = gpt(db, "search", '"AND*', "--json")
    assert json.loads(nothing.stdout) == [] and nothing.returncode == 1


@pytest.mark.parametrize("command", [["list"], ["search", "x"], ["export", "01ABC"]])
def test_corrupt_database_is_one_line_exit_1_and_untouched(tmp_path: Path,
                                                           command: list[str]) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(b"definitely not sqlite\n" * 100)
    before = db.read_bytes()
    assert_one_line_error(gpt(db, *command), 1, "not a valid gpt-tui database")
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.db", "home"]


def test_newer_database_is_one_line_exit_1_and_untouched(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = db.read_bytes()
    assert_one_line_error(gpt(db, "list"), 1, "newer gpt-tui")
    assert db.read_bytes() == before


def test_usage_errors_and_version(db: Path) -> None:
    assert_one_line_error(gpt(db, "list", "--bogus"), 2, "unrecognized arguments")
    assert_one_line_error(gpt(db, "frobnicate"), 2, "invalid choice")
    result = gpt(db, "--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"gpt-tui {__version__}")
    help_text = gpt(db, "search", "--help").stdout
    assert "**...**" in help_text and "bold" in help_text


def test_db_flag_wins_over_environment(db: Path, tmp_path: Path) -> None:
    result = gpt(tmp_path / "other.db", "list", "--json", "--db", str(db))
    assert len(json.loads(result.stdout)) == 2
    result = gpt(tmp_path / "other.db", "--db", str(db), "list", "--json")
    assert len(json.loads(result.stdout)) == 2


# -- in-process wiring ------------------------------------------------------------------

def test_no_command_launches_the_app_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    fake = types.ModuleType("tui.ui.app")

    def run_app(args) -> int:
        seen["args"] = args
        return 7

    fake.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.ui.app", fake)
    assert cli.main(["--model", "m1", "--base-url", "http://x/v1", "--db", "f.db"]) == 7
    args = seen["args"]
    assert (args.model, args.base_url, args.db) == ("m1", "http://x/v1", "f.db")


def test_missing_app_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "tui.ui.app", None)  # makes the import fail
    assert cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gpt-tui: error: the full-screen app is not available")


def test_ask_is_registered_when_available() -> None:
    parser = cli.build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command")
    names = set(subcommands.choices)
    assert {"list", "export", "search"} <= names
    try:
        import tui.ask_command  # noqa: F401
    except ImportError:
        return
    assert "ask" in names


def test_short_ids_are_unique_prefixes() -> None:
    ids = ["01AAAAAAAAAAAAAAAAAAAAAAAA", "01AAAAAAAAAAAAAAAAAAAAAAAB", "01BBBBBBBBBBBBBBBBBBBBBBBB"]
    short = listing_commands._short_ids(ids)
    assert short[ids[2]] == "01BBBBBB"
    assert short[ids[0]] == ids[0] and short[ids[1]] == ids[1]


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    db = tmp_path / "many.db"
    with Store(db) as store:
        for i in range(2500):  # more output than a pipe buffer holds
            store.create_conversation(model="m", title=f"conversation number {i}")
    env = {**os.environ, "GPT_TUI_DB": str(db), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tui", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"ID")
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""
