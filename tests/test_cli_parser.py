"""The command line's parser builds a command's arguments only when that command is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui import cli, cli_parser

ROOT = Path(__file__).resolve().parents[1]


def command_parsers() -> dict[str, cli_parser.CommandParser]:
    parser = cli_parser.build_parser()
    commands = next(action for action in parser._actions if action.dest == "command")
    return dict(commands.choices)


def test_every_listed_command_is_filled_in_by_its_module() -> None:
    parsers = command_parsers()
    assert list(parsers) == list(cli_parser.COMMANDS)
    for name, parser in parsers.items():
        parser.filled()
        assert parser.fill is None, name
        assert callable(parser.get_default("handler")), name
        assert parser.description, name
        assert "--db" in parser._option_string_actions, name


def test_filling_one_command_fills_its_siblings_once() -> None:
    parsers = command_parsers()
    parsers["pin"].filled()
    assert all(parsers[name].fill is None for name in ("windows", "strategy", "context"))
    assert parsers["ask"].fill is not None and parsers["list"].fill is not None


# Parses the command line given, then prints the tui modules imported.
PROBE = """
import json, sys
from tui.cli_parser import build_parser
build_parser().parse_args(sys.argv[1:])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("tui."))))
"""
COMMAND_MODULES = {"tui.ask_command", "tui.context_commands", "tui.personas_command",
                   "tui.usage_command", "tui.import_command", "tui.listing_commands"}


@pytest.mark.parametrize("args, module", [
    (["ask", "hi"], "tui.ask_command"), (["list"], "tui.listing_commands"),
    (["usage"], "tui.usage_command"), (["windows"], "tui.context_commands"),
])
def test_a_command_imports_only_its_own_module(args: list[str], module: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60, check=True)
    imported = set(json.loads(done.stdout)) & COMMAND_MODULES
    assert imported == {module}


def test_a_command_whose_module_is_missing_fails_alone(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "tui.usage_command", None)  # makes the import fail
    assert cli.main(["usage", "--by", "day"]) == 1
    assert capsys.readouterr().err.startswith("gpt-tui: error: 'usage' is unavailable")
    assert cli.main(["list", "--db", str(tmp_path / "none.db")]) == 0
