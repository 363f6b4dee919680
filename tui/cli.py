"""The ``gpt-tui`` command: the full-screen app by default, plus scriptable subcommands.

``list``, ``export`` and ``search`` only read: they open the database with
``create=False`` so they never create a file, and a missing database simply has nothing
to show. Every failure is one ``gpt-tui: error: ...`` line on stderr, never a traceback
(that goes to the log file, see :mod:`tui.core.logs`): exit 2 for bad usage (including an
unknown or ambiguous id) and for a bad config file, whichever the command, 1 when the
database cannot be used. ``search`` exits 1 when nothing matches, as grep does, and an empty
``list`` says so on stderr. ``ask`` lives in :mod:`tui.ask_command` and plugs in here when present.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Any, NoReturn

from tui import __version__
from tui.context_commands import UsageError as ContextUsageError
from tui.core.config import ConfigError, load_settings
from tui.core.logs import setup_logging
from tui.core.literal import printable
from tui.core.models import HIGHLIGHT_END, HIGHLIGHT_START, Conversation
from tui.core.paths import resolve_db_path
from tui.core.store import AmbiguousId, NoDatabase, NotFound, Store, StoreError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PLAIN_MARK = "**"
BOLD, RESET = "\x1b[1m", "\x1b[0m"
SHORT_ID = 8

log = logging.getLogger(__name__)


class UsageError(Exception):
    """Reported as one line with exit status 2."""


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
    from tui import import_command

    import_command.register(commands, add_common_options)
    return parser


def _register_broken(name: str, error: ImportError, commands: Any) -> None:
    """Keep the other commands working when a plug-in command cannot be imported."""
    broken = commands.add_parser(name, help=f"(unavailable: {error})", add_help=True)
    broken.add_argument("rest", nargs=argparse.REMAINDER)

    def fail(args: argparse.Namespace) -> int:
        print(f"gpt-tui: error: '{name}' is unavailable: {error}", file=sys.stderr)
        return EXIT_FAILURE

    broken.set_defaults(handler=fail)


# -- helpers --------------------------------------------------------------------------------

def _open_store(args: argparse.Namespace) -> Store:
    return Store(resolve_db_path(args.db), create=False)


def _open_for_listing(args: argparse.Namespace) -> Store | None:
    """The store, or None when there is no database yet (an empty listing, not an error)."""
    try:
        return _open_store(args)
    except NoDatabase:
        if args.json:
            print("[]")
        return None


def _short_ids(all_ids: list[str]) -> dict[str, str]:
    """The shortest prefix (at least SHORT_ID characters) that tells each id apart."""
    ordered = sorted(all_ids)
    short: dict[str, str] = {}

    def common(a: str, b: str) -> int:
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    for i, cid in enumerate(ordered):
        need = 0
        if i:
            need = max(need, common(cid, ordered[i - 1]))
        if i + 1 < len(ordered):
            need = max(need, common(cid, ordered[i + 1]))
        short[cid] = cid[:max(SHORT_ID, need + 1)]
    return short


def _local_time(stamp: str) -> str:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp[:16]
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _one_line(text: str, width: int | None = None) -> str:
    flat = printable(" ".join(text.split()))
    if width is not None and len(flat) > width:
        flat = flat[:width - 1] + "…"
    return flat


def _styled_snippet(snippet: str, tty: bool) -> str:
    start, end = (BOLD, RESET) if tty else (PLAIN_MARK, PLAIN_MARK)
    # Make other control characters visible first, then turn the markers into styling.
    guarded = snippet.replace(HIGHLIGHT_START, "\ue000").replace(HIGHLIGHT_END, "\ue001")
    return _one_line(guarded).replace("\ue000", start).replace("\ue001", end)


def _conversation_record(conversation: Conversation, message_count: int) -> dict[str, Any]:
    record = asdict(conversation)
    record["strategy"] = conversation.strategy.value
    record["message_count"] = message_count
    return record


# -- commands -------------------------------------------------------------------------------

def _say_empty(archived: int) -> None:
    """An empty listing says so on stderr (stdout stays empty for scripts)."""
    if archived:
        print(f"gpt-tui: no conversations ({archived} archived: see --all)", file=sys.stderr)
    else:
        print("gpt-tui: no conversations yet", file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    store = _open_for_listing(args)
    if store is None:
        if not args.json:
            _say_empty(0)
        return EXIT_OK
    with store:
        archived = None if args.all else False
        conversations: list[Conversation] = []
        while True:
            page = store.list_conversations(limit=500, offset=len(conversations),
                                            archived=archived)
            conversations += page
            if len(page) < 500:
                break
        counts = store.message_counts([c.id for c in conversations])
        if args.json:
            records = [_conversation_record(c, counts[c.id]) for c in conversations]
            print(json.dumps(records, indent=2, ensure_ascii=False))
            return EXIT_OK
        short = _short_ids(store.conversation_ids()) if conversations else {}
        hidden = 0 if conversations or args.all else store.count_conversations(archived=True)
    if not conversations:
        _say_empty(hidden)
        return EXIT_OK
    id_width = max(len(short[c.id]) for c in conversations)
    model_width = min(24, max(5, *(len(c.model) for c in conversations)))
    print(f"{'ID':<{id_width}}  {'UPDATED':<16}  {'MSGS':>5}  {'':3}"
          f"{'MODEL':<{model_width}}  TITLE")
    for c in conversations:
        flags = ("*" if c.pinned else " ") + ("a" if c.archived else " ")
        title = _one_line(c.title, 60) or "(untitled)"
        print(f"{short[c.id]:<{id_width}}  {_local_time(c.updated):<16}  {counts[c.id]:>5}  "
              f"{flags} {_one_line(c.model, model_width):<{model_width}}  {title}")
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from tui.export_command import run_export as export

    return export(args)


def _no_match(query: str) -> int:
    """Like grep: no hit is exit status 1, said on stderr."""
    print(f"gpt-tui: nothing matches {query!r}", file=sys.stderr)
    return EXIT_FAILURE


def run_search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    store = _open_for_listing(args)
    if store is None:
        return _no_match(query)
    with store:
        hits = store.search(query, limit=max(0, args.limit), include_archived=not args.active)
        short = _short_ids(store.conversation_ids()) if hits and not args.json else {}
    if args.json:
        records = [{"conversation_id": h.conversation.id, "title": h.conversation.title,
                    "message_id": h.message_id, "in": "title" if h.message_id is None
                    else "message", "snippet": _styled_snippet(h.snippet, tty=False)}
                   for h in hits]
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return EXIT_OK if hits else _no_match(query)
    if not hits:
        return _no_match(query)
    tty = sys.stdout.isatty()
    for hit in hits:
        c = hit.conversation
        print(f"{short[c.id]}  {_local_time(c.updated)}  {_one_line(c.title, 60) or '(untitled)'}")
        where = "title" if hit.message_id is None else "message"
        print(f"    {where}: {_styled_snippet(hit.snippet, tty)}")
    return EXIT_OK


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

@contextmanager
def _importing() -> Iterator[None]:
    """No cycle collection while the big imports run.

    Textual and the openai SDK (~700 pydantic models) allocate ~170k long-lived objects and
    no garbage: the collector ran ~240 times for nothing, about a tenth of the start-up's
    import time (measured with bench/bench_terminal.py).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_config(args: argparse.Namespace) -> None:
    """A bad config file stops every command, not only those that use it (ConfigError)."""
    load_settings(flags={"model": getattr(args, "model", None),
                         "base_url": getattr(args, "base_url", None)})


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (never raises, never a traceback)."""
    try:
        with _importing():  # `ask` plugs in with the chat flow, the client and the SDK
            parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # --help, --version, usage errors
            return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
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
