"""`gpt-tui personas`: list, show, create (from flags or a chat), rename, delete; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui import cli
from tui.core.store import Store


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "personas.db")


def run(db: str, *args: str) -> int:
    return cli.main(["--db", db, "personas", *args])


def test_an_empty_list_says_so_and_creates_no_database(db, capsys):
    assert run(db) == 0
    assert "no personas yet" in capsys.readouterr().err
    assert run(db, "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not Path(db).exists()


def test_create_show_rename_delete(db, capsys):
    assert run(db, "create", "Editor", "--system", "Fix grammar only.\nKeep the tone.",
               "--temperature", "0.3", "--max-tokens", "500", "--strategy", "truncate",
               "--param", "repeat_penalty=1.1", "--json-output") == 0
    capsys.readouterr()
    assert run(db, "show", "editor") == 0
    shown = capsys.readouterr().out
    for line in ("name: Editor", "model: (the session model)", "strategy: truncate",
                 "temperature: 0.3", "max tokens: 500", "JSON output: on",
                 "param repeat_penalty: 1.1", "  Fix grammar only.", "  Keep the tone."):
        assert line in shown.splitlines(), line
    assert run(db, "rename", "EDITOR", "Copy editor") == 0
    assert "renamed persona 'EDITOR' to 'Copy editor'" in capsys.readouterr().err
    assert run(db, "--json") == 0
    [record] = json.loads(capsys.readouterr().out)
    assert (record["name"], record["temperature"], record["extra_params"]) == \
        ("Copy editor", 0.3, {"repeat_penalty": 1.1})
    assert run(db, "delete", "copy editor") == 0
    assert run(db, "show", "Copy editor") == 2
    assert "no persona named 'Copy editor'" in capsys.readouterr().err


def test_create_from_a_conversation_with_flags_on_top(db, capsys):
    with Store(db) as store:
        chat = store.create_conversation(model="qwen2.5:7b", system_prompt="Be exact.",
                                         top_p=0.8, extra_params={"top_k": 20})
    assert run(db, "create", "Exact", "--from", chat.id[:12], "--temperature", "0",
               "--param", "min_p=0.1") == 0
    assert run(db, "show", "Exact", "--json") == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["model"], record["system_prompt"], record["top_p"], record["temperature"],
            record["extra_params"]) == ("qwen2.5:7b", "Be exact.", 0.8, 0.0,
                                        {"top_k": 20, "min_p": 0.1})


@pytest.mark.parametrize("args, message", [
    (["create", "X", "--temperature", "9"], "temperature must be between 0 and 2"),
    (["create", "X", "--param", "messages=1"], "clashes"),
    (["create", "X", "--from", "NOSUCH"], "no conversation"),
    (["rename", "Nobody", "Someone"], "no persona named 'Nobody'"),
    (["delete", "Nobody"], "no persona named 'Nobody'"),
])
def test_bad_usage_is_one_line_and_exit_2(db, capsys, args, message):
    assert run(db, "create", "Taken") == 0
    capsys.readouterr()
    assert run(db, *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_taken_name_is_refused_whatever_its_case(db, capsys):
    assert run(db, "create", "Poet") == 0
    assert run(db, "create", "POET") == 2
    assert "already exists" in capsys.readouterr().err
    assert run(db, "create", "Bard") == 0
    assert run(db, "rename", "bard", "poet") == 2
