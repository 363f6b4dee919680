"""What the command line says when there is nothing to show, or the config is wrong."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui import cli
from tui.core.paths import config_file_path, log_file_path
from tui.core.store import Store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "chat.db"
    with Store(path) as store:
        c = store.create_conversation(model="m", title="Python tips")
        store.append_message(c.id, "user", "how do I reverse a list?")
        old = store.create_conversation(model="m", title="Old notes")
        store.set_archived(old.id, True)
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_without_a_hit_says_so_and_exits_1(db: Path, capsys) -> None:
    assert run(capsys, "--db", str(db), "search", "haskell") == (
        1, "", "gpt-tui: nothing matches 'haskell'\n")
    code, out, err = run(capsys, "--db", str(db), "search", "haskell", "--json")
    assert (code, out.strip(), err) == (1, "[]", "gpt-tui: nothing matches 'haskell'\n")
    code, out, _ = run(capsys, "--db", str(db), "search", "reverse")
    assert code == 0 and "Python tips" in out


def test_an_empty_list_says_so(tmp_path: Path, db: Path, capsys) -> None:
    empty = tmp_path / "empty.db"
    Store(empty).close()
    assert run(capsys, "--db", str(empty), "list") == (0, "", "gpt-tui: no conversations yet\n")
    assert run(capsys, "--db", str(empty), "list", "--json") == (0, "[]\n", "")
    with Store(db) as store:
        live = store.list_conversations()[0]
        store.set_archived(live.id, True)
    assert run(capsys, "--db", str(db), "list") == (
        0, "", "gpt-tui: no conversations (2 archived: see --all)\n")


@pytest.mark.parametrize("command", [[], ["list"], ["search", "x"], ["export", "--last"],
                                     ["ask", "hello"]])
def test_a_bad_config_stops_every_command_with_exit_2(db: Path, capsys,
                                                      command: list[str]) -> None:
    path = config_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('modle = "gpt-4o"\n', encoding="utf-8")
    code, out, err = run(capsys, "--db", str(db), *command)
    assert code == 2 and out == ""
    assert err.startswith("gpt-tui: error: ") and "unknown key 'modle'" in err
    assert len(err.splitlines()) == 1


def test_an_unknown_theme_is_not_a_bad_config(db: Path, capsys) -> None:
    """The theme is the app's to report (a notification); other commands just work."""
    path = config_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('theme = "no-such-theme"\n', encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(db), "list")
    assert code == 0 and "Python tips" in out


def test_debug_flag_is_accepted_everywhere_and_logs_more(db: Path, capsys) -> None:
    assert run(capsys, "--db", str(db), "search", "reverse")[0] == 0
    log = log_file_path()
    assert "gpt-tui" not in log.read_text(encoding="utf-8")  # INFO and up only
    assert run(capsys, "--db", str(db), "search", "reverse", "--debug")[0] == 0
    assert run(capsys, "--debug", "--db", str(db), "list")[0] == 0
    text = log.read_text(encoding="utf-8")
    assert "DEBUG tui.cli" in text and ": search" in text and ": list" in text
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log.parent).st_mode) == 0o700


def test_commands_that_never_talk_to_a_model_do_not_import_the_sdk() -> None:
    """list, search, export: the openai SDK costs ~0.4 s of import they never use."""
    import subprocess
    import sys

    code = ("import sys; from tui import cli; cli.build_parser(); "
            "print('openai' in sys.modules, 'textual' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("args", [
    ("search", "reverse", "--limit", "0"),
    ("search", "reverse", "--limit", "-1"),
    ("search", "caf\udce9"),
    ("search", ""),
    ("search", "  "),
    ("ask", "caf\udce9"),
    ("--model", "", "ask", "hello"),
    ("ask", "--model", "   ", "hello"),
])
def test_bad_input_is_a_usage_error_before_anything_is_sent(db: Path, capsys, args) -> None:
    """Before: a limit of 0 said nothing matched (exit 1); bytes that are not UTF-8 (lone
    surrogates in argv) ended in "unexpected UnicodeEncodeError"; a blank model was sent."""
    code, out, err = run(capsys, "--db", str(db), *args)
    assert code == 2, err
    assert err.startswith("gpt-tui: error:") and "unexpected" not in err
    assert out == ""


def test_a_base_url_with_a_port_out_of_range_is_refused_without_repeating_it(
        db: Path, capsys, monkeypatch) -> None:
    """Before: "unexpected OverflowError: connect(): port must be 0-65535"."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:s3cr3tpass@127.0.0.1:99999/v1")
    code, _, err = run(capsys, "--db", str(db), "ask", "hello")
    assert code == 2 and "base URL (env) is not valid" in err
    assert "s3cr3tpass" not in err


def test_closed_standard_output_is_said_on_standard_error(db: Path, capsys,
                                                          monkeypatch) -> None:
    """Before: `list >&-` exited 0 having written nothing; `ask >&-` died on an
    AttributeError."""
    monkeypatch.setattr("sys.stdout", None)
    code = cli.main(["--db", str(db), "list"])
    assert code == 2
    assert "standard output is closed" in capsys.readouterr().err


class FullDisk:
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        raise OSError(28, "No space left on device")

    def isatty(self) -> bool:
        return False


def test_output_to_a_full_disk_is_a_failure_with_its_reason(db: Path, capsys,
                                                            monkeypatch) -> None:
    monkeypatch.setattr("sys.stdout", FullDisk())
    code = cli.main(["--db", str(db), "search", "reverse"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == "gpt-tui: error: could not write the output: No space left on device"
