"""The ``gpt-tui`` command: the full-screen app by default, plus scriptable subcommands.

``list``, ``export`` and ``search`` only read: they open the database with
``create=False`` so they never create a file, and a missing database simply has nothing
to show. Every failure is one ``gpt-tui: error: ...`` line on stderr, never a traceback
(that goes to the log file, see :mod:`tui.core.logs`): exit 2 for bad usage (including an
unknown or ambiguous id) and for a bad config file, whichever the command, 1 when the
database cannot be used. ``search`` exits 1 when nothing matches, as grep does, and an empty
``list`` says so on stderr. ``ask`` lives in :mod:`tui.ask_command` and plugs in here when present.

Start-up cost: this module and the modules that register subcommands import only what
building the parser needs (argparse and small tables). Each command imports its own
machinery when it runs: ``--version`` loads nothing else, ``list``/``search``/``export``
never load the openai SDK or Textual, ``ask`` never loads Textual
(tests/test_cli_imports.py checks it in a fresh interpreter).

``gpt-tui list | head`` stops at the first write that finds the reader gone: no traceback
and exit status 0, as ``git log | head`` does in practice (the partial output is what the
reader asked for).
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
import threading
from contextlib import AbstractContextManager
from typing import Any, NoReturn

from tui import __version__
from tui.cli_support import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from tui.listing_commands import PLAIN_MARK, run_list, run_search

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not the usage block: "gpt-tui list: error: ..." plus where to look.
        self.exit(EXIT_USAGE, f"gpt-tui: error: {message} (see {self.prog} --help)\n")


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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    listing = commands.add_parser(
        "list", help="list conversations, most recent first",
        description="List conversations in the app's order: pinned first (marked *), then "
                    "most recently updated. Archived ones (marked a) only with --all.")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.add_argument("--all", action="store_true", help="include archived conversations")
    listing.add_argument("--limit", type=_at_least_one, metavar="N",
                         help="only the first N conversations")
    add_common_options(listing)
    listing.set_defaults(handler=run_list)

    export = commands.add_parser(
        "export", help="export a conversation as Markdown or JSON",
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
                        help="write to FILE, not stdout (with --all: the folder)")
    export.add_argument("--force", action="store_true", help="replace existing files")
    export.add_argument("--format", choices=("markdown", "json"),
                        help="default: json if FILE ends in .json, else markdown")
    add_common_options(export)
    export.set_defaults(handler=run_export)

    search = commands.add_parser(
        "search", help="full-text search of titles and messages",
        description="Search conversation titles and message text. Words are matched "
                    "literally (quotes, AND, *, - are ordinary text) and the last word also "
                    "as a prefix unless QUERY ends with a space. Matches are shown in bold "
                    f"on a terminal, and wrapped in {PLAIN_MARK}...{PLAIN_MARK} otherwise "
                    "(and in --json).")
    search.add_argument("query", metavar="QUERY", nargs="+", help="words to look for")
    search.add_argument("--json", action="store_true", help="print a JSON array of hits")
    search.add_argument("--limit", type=int, default=50, help="at most this many hits (50)")
    search.add_argument("--active", action="store_true", help="leave out archived ones")
    add_common_options(search)
    search.set_defaults(handler=run_search)

    # --- the `ask` subcommand (tui/ask_command.py) plugs in here --------------------------
    try:
        from tui import ask_command
    except ImportError as error:
        if getattr(error, "name", None) != "tui.ask_command":
            _register_broken("ask", error, commands)
    else:
        ask_command.register(commands)
        ask = commands.choices.get("ask")
        if ask is not None and "--db" not in ask._option_string_actions:
            add_common_options(ask)
    from tui import context_commands

    context_commands.register(commands, add_common_options)
    from tui import personas_command, usage_command

    personas_command.register(commands, add_common_options)
    usage_command.register(commands, add_common_options)
    from tui import import_command

    import_command.register(commands, add_common_options)
    return parser


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _register_broken(name: str, error: ImportError, commands: Any) -> None:
    """Keep the other commands working when a plug-in command cannot be imported."""
    broken = commands.add_parser(name, help=f"(unavailable: {error})", add_help=True)
    broken.add_argument("rest", nargs=argparse.REMAINDER)

    def fail(args: argparse.Namespace) -> int:
        print(f"gpt-tui: error: '{name}' is unavailable: {error}", file=sys.stderr)
        return EXIT_FAILURE

    broken.set_defaults(handler=fail)


# -- helpers --------------------------------------------------------------------------------

def run_export(args: argparse.Namespace) -> int:
    from tui.export_command import run_export as export

    return export(args)


def run_app(args: argparse.Namespace) -> int:
    try:
        with _importing():
            from tui.ui.app import run_app as launch
    except ImportError as error:
        log.exception("the app cannot be imported")
        print(f"gpt-tui: error: the full-screen app is not available ({error}); "
              "try 'gpt-tui --help'", file=sys.stderr)
        return EXIT_FAILURE
    return int(launch(args) or 0)


# -- entry point ----------------------------------------------------------------------------

def _importing() -> AbstractContextManager[None]:
    """No cycle collection while the big imports run (see tui.core.gc_pause), and what they
    made frozen after, so later collections do not walk it; measured with
    bench/bench_terminal.py: about a tenth of the start-up's import time."""
    from tui.core.gc_pause import collector_paused

    return collector_paused(freeze=True)


def check_config(args: argparse.Namespace) -> None:
    """A bad config file stops every command, not only those that use it (ConfigError)."""
    from tui.core.config import load_settings

    load_settings(flags={"model": getattr(args, "model", None),
                         "base_url": getattr(args, "base_url", None)})


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (never raises, never a traceback)."""
    try:
        with _importing():  # the modules that register commands (their big imports wait)
            parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # --help, --version, usage errors
            return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
        return _run(args)
    except KeyboardInterrupt:
        print("gpt-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`gpt-tui list | head`): not an error worth a message.
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the promise is: never a traceback
        log.exception("unexpected error")
        print(f"gpt-tui: error: unexpected {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILURE


def entry() -> NoReturn:
    """The console script and ``python -m tui``: :func:`main`, then a quick exit."""
    finish_quickly(main())


def finish_quickly(code: int) -> NoReturn:
    """End the process without tearing the interpreter down.

    After ``ask`` has loaded the SDK (or the app Textual), Python's own exit spends ~50 ms
    freeing every module's objects one by one for a process that is going away (``ask``:
    0.45 -> 0.39 s of CPU). What that exit does first is done here too: other non-daemon
    threads are joined, the ``atexit`` callbacks run (the log file's flush among them) and
    stdout and stderr are flushed; then ``os._exit``. Tests call :func:`main`, which returns.
    """
    main_thread = threading.main_thread()
    try:
        for thread in threading.enumerate():
            if thread is not main_thread and not thread.daemon:
                thread.join()
    except KeyboardInterrupt:  # a second Ctrl-C while work finishes: leave now
        code = EXIT_INTERRUPTED
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # the reader went away (`| head`) or the stream is closed: nothing to keep
    os._exit(code)


def _run(args: argparse.Namespace) -> int:
    """The parsed command; its expected failures become one line and an exit status."""
    with _importing():
        from tui.context_commands import UsageError as ContextUsageError
        from tui.core.config import ConfigError
        from tui.core.logs import setup_logging
        from tui.core.store_errors import AmbiguousId, NotFound, StoreError

    try:
        with _importing():
            setup_logging(debug=args.debug)
            log.debug("gpt-tui %s: %s", __version__, args.command or "app")
            check_config(args)
        handler = getattr(args, "handler", None)
        if handler is None:
            return run_app(args)
        return int(handler(args) or 0)
    except (UsageError, ContextUsageError, ConfigError, NotFound, AmbiguousId) as error:
        log.info("stopped: %s", error)
        print(f"gpt-tui: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as error:
        log.warning("database error", exc_info=True)
        print(f"gpt-tui: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
