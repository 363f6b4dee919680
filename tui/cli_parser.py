"""The ``gpt-tui`` argument parser, each command's arguments built only when it is used.

``gpt-tui --help`` lists every command from :data:`COMMANDS` (a name, its line of help, and
where its arguments come from); a command's own parser is filled in (its module imported, its
arguments, description and handler added) when the command line names it, or asks for its
``--help``. Building all eleven commands, with their modules, was ~20 ms of every start
(``ask``, ``list``, the app) for the one command that runs.

A command's module provides ``register(commands, add_common)``: it calls
``commands.add_parser(name, description=...)`` for each of its commands, as with argparse,
and gets the parser already listed. A module that cannot be imported leaves its commands
failing with one line, the others working.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from tui import __version__
from tui.cli_support import EXIT_FAILURE, EXIT_USAGE

Fill = Callable[[Any, Callable[[argparse.ArgumentParser], None]], None]

# Command -> (its line in `gpt-tui --help`, the module whose register() fills it in).
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("list conversations, most recent first", "tui.cli_parser"),
    "export": ("export a conversation as Markdown or JSON", "tui.cli_parser"),
    "search": ("full-text search of titles and messages", "tui.cli_parser"),
    "ask": ("ask one question headless, streaming the reply to stdout", "tui.ask_command"),
    "windows": ("list learned context windows (per server), or forget one",
                "tui.context_commands"),
    "strategy": ("show or set a conversation's context strategy", "tui.context_commands"),
    "context": ("show the next request: each message's tokens and fate",
                "tui.context_commands"),
    "pin": ("pin a message so it is always sent (never summarized or dropped)",
            "tui.context_commands"),
    "personas": ("list saved personas (named system prompt + parameters + model)",
                 "tui.personas_command"),
    "usage": ("tokens and estimated cost per conversation, day or month",
              "tui.usage_command"),
    "import": ("import ChatGPT's data export or a gpt-tui JSON export", "tui.import_command"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not the usage block: "gpt-tui list: error: ..." plus where to look.
        self.exit(EXIT_USAGE, f"gpt-tui: error: {message} (see {self.prog} --help)\n")


class CommandParser(_Parser):
    """A command's parser: its arguments are added when it first parses."""

    fill: Callable[[], None] | None = None
    unavailable: str | None = None
    """Why the command cannot run (its module failed to import): said whatever follows."""

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        self.filled()
        if self.unavailable:
            self.exit(EXIT_FAILURE, f"gpt-tui: error: {self.unavailable}\n")
        return super().parse_known_args(args, namespace)

    def filled(self) -> CommandParser:
        """This parser with its arguments (also for a test or help that reads them)."""
        fill, self.fill = self.fill, None
        if fill is not None:
            fill()
        return self


class _Listed:
    """What a module's ``register`` sees as argparse's subparsers: ``add_parser`` hands back
    the parser ``--help`` already lists, with the description given."""

    def __init__(self, parsers: dict[str, CommandParser]) -> None:
        self._parsers = parsers

    def add_parser(self, name: str, *, description: str | None = None) -> CommandParser:
        parser = self._parsers[name]
        parser.fill = None
        parser.description = description
        return parser


def add_common_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--db``, ``--debug``, ``--model`` and ``--base-url``, before or after a subcommand."""
    default: Any = None if top else argparse.SUPPRESS
    parser.add_argument("--db", metavar="PATH", default=default,
                        help="database file (default: $GPT_TUI_DB, else gpt-tui.db in the "
                             "user data folder)")
    parser.add_argument("--debug", action="store_true",
                        default=False if top else argparse.SUPPRESS,
                        help="write debug detail (and HTTP requests) to the log file")
    if top:
        parser.add_argument("--model", default=default, help="model to use")
        parser.add_argument("--base-url", dest="base_url", default=default,
                            help="OpenAI-compatible server, e.g. http://localhost:11434/v1")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gpt-tui",
        description="A full-screen terminal chat client for OpenAI-compatible servers. "
                    "Without a command, opens the app.")
    parser.add_argument("--version", action="version", version=f"gpt-tui {__version__}")
    add_common_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=CommandParser)
    parsers = {name: commands.add_parser(name, help=line)
               for name, (line, _) in COMMANDS.items()}
    for name, command in parsers.items():
        module = COMMANDS[name][1]
        siblings = {other: parsers[other] for other, (_, owner) in COMMANDS.items()
                    if owner == module}
        command.fill = _filler(module, siblings)
    return parser


def _filler(module: str, parsers: dict[str, CommandParser]) -> Callable[[], None]:
    """Fills every command of ``module`` (one import registers them all)."""

    def fill() -> None:
        try:
            register: Fill = importlib.import_module(module).register
        except ImportError as error:
            if getattr(error, "name", None) != module:
                raise
            for name, parser in parsers.items():
                _unavailable(name, error, parser)
            return
        register(_Listed(parsers), add_common_options)

    return fill


def _unavailable(name: str, error: ImportError, parser: CommandParser) -> None:
    """Keep the other commands working when a command's module cannot be imported."""
    parser.fill = None
    parser.unavailable = f"'{name}' is unavailable: {error}"


# -- the commands defined here ---------------------------------------------------------------

def register(commands: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    """``list``, ``export`` and ``search`` (their handlers import what they use)."""
    from tui.listing_commands import PLAIN_MARK, run_list, run_search

    listing = commands.add_parser(
        "list", description="List conversations in the app's order: pinned first (marked *), "
                            "then most recently updated. Archived ones (marked a) only with "
                            "--all.")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.add_argument("--all", action="store_true", help="include archived conversations")
    listing.add_argument("--limit", type=_at_least_one, metavar="N",
                         help="only the first N conversations")
    add_common(listing)
    listing.set_defaults(handler=run_list)

    export = commands.add_parser(
        "export",
        description="Print (or write with -o) one conversation as Markdown (the branch "
                    "shown) or JSON (the whole tree, which 'gpt-tui import' reads back). ID "
                    "may be any unique prefix of the id shown by 'gpt-tui list'. --all -o "
                    "DIR writes every conversation, one file each. An existing file is never "
                    "replaced without --force.")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", metavar="ID", help="conversation id or unique prefix")
    which.add_argument("--last", action="store_true",
                       help="export the most recently updated conversation")
    which.add_argument("--all", action="store_true",
                       help="export every conversation (archived too) into the folder -o DIR")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE, not stdout ('-': stdout; with --all: the folder)")
    export.add_argument("--force", action="store_true", help="replace existing files")
    export.add_argument("--format", choices=("markdown", "json"),
                        help="default: json if FILE ends in .json, else markdown")
    add_common(export)
    export.set_defaults(handler=_run_export)

    search = commands.add_parser(
        "search",
        description="Search conversation titles and message text. Words are matched "
                    "literally (quotes, AND, *, - are ordinary text) and the last word also "
                    "as a prefix unless QUERY ends with a space. Matches are shown in bold "
                    f"on a terminal, and wrapped in {PLAIN_MARK}...{PLAIN_MARK} otherwise "
                    "(and in --json).")
    search.add_argument("query", metavar="QUERY", nargs="+", help="words to look for")
    search.add_argument("--json", action="store_true", help="print a JSON array of hits")
    search.add_argument("--limit", type=_at_least_one, default=50, metavar="N",
                        help="at most this many hits (50)")
    search.add_argument("--active", action="store_true", help="leave out archived ones")
    add_common(search)
    search.set_defaults(handler=run_search)


def _run_export(args: argparse.Namespace) -> int:
    from tui.export_command import run_export

    return run_export(args)


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
