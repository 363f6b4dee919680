"""``gpt-tui import FILE``: ChatGPT's data export or a gpt-tui JSON export into the store.

Prints one line per conversation (imported, updated with new messages, already there, or
skipped and why) and a total.
Exit status: 0 when every conversation is in the store, 1 when any was skipped (the rest
are stored), 2 when FILE is neither format (nothing is stored). The importer is imported
when the command runs, so the other commands pay nothing for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui.core.literal import printable

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE = 0, 1, 2


def register(commands: Any, add_common: Any) -> None:
    parser = commands.add_parser(
        "import",
        description="Import conversations from FILE: ChatGPT's data export "
                    "(conversations.json, or the .zip that holds it; every branch is kept, "
                    "the one ChatGPT showed is the active one) or a JSON file written by "
                    "'gpt-tui export --format json'. Importing the same file again adds "
                    "nothing; a newer export of a conversation that went on adds its new "
                    "messages. Exit status 1 when a conversation could not be read (the others "
                    "are imported), 2 when FILE is neither format.")
    parser.add_argument("file", metavar="FILE",
                        help="conversations.json, the export's .zip or the folder it unpacks "
                             "to, or a gpt-tui .json export; - reads it from standard input")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only the total and what was skipped")
    add_common(parser)
    parser.set_defaults(handler=run_import)


def _line(text: str) -> str:
    return printable(text).replace("\n", " ")


def run_import(args: argparse.Namespace) -> int:
    from tui.core.importing import NotAnExport, import_documents, plan, read_bytes, read_file
    from tui.core.paths import resolve_db_path
    from tui.core.store import Store

    path = Path(args.file).expanduser()
    from_stdin = args.file == "-"
    if not from_stdin and not path.exists():
        print(f"gpt-tui: error: no file {args.file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if from_stdin:
            if sys.stdin is None or sys.stdin.isatty():
                print("gpt-tui: error: import - reads the export from standard input: pipe "
                      "it in (gpt-tui import - < conversations.json)", file=sys.stderr)
                return EXIT_USAGE
            documents = read_bytes("standard input", sys.stdin.buffer.read())
        else:
            documents = read_file(path)
        plan(documents)  # neither format: say so before the database is created
    except NotAnExport as error:
        print(f"gpt-tui: error: cannot import {args.file}: {error}", file=sys.stderr)
        return EXIT_USAGE
    with Store(resolve_db_path(args.db)) as store:
        report = import_documents(store, documents)
    for outcome in report.outcomes:
        if outcome.status == "skipped":
            print(_line(f"gpt-tui: skipped conversation {outcome.label}: {outcome.reason}"),
                  file=sys.stderr)
        elif outcome.status == "empty":
            if not args.quiet:
                print(_line(f"{'empty':<13}  {'-':<26}  {outcome.label}  (no message to "
                            f"show: not imported)"))
        elif outcome.status == "updated":
            if not args.quiet:
                print(_line(f"{'updated':<13}  {outcome.conversation_id}  {outcome.label}  "
                            f"({outcome.messages} new message"
                            f"{'s' if outcome.messages != 1 else ''})"))
        elif not args.quiet:
            what = "imported" if outcome.status == "imported" else "already there"
            detail = f"{outcome.messages} messages"
            if outcome.branches:
                detail += f", {outcome.branches} branch{'es' if outcome.branches > 1 else ''}"
            print(_line(f"{what:<13}  {outcome.conversation_id}  {outcome.label}  ({detail})"))
    imported, updated, present, skipped, empty = (
        report.count(s) for s in ("imported", "updated", "present", "skipped", "empty"))
    messages = sum(o.messages for o in report.outcomes if o.status == "imported")
    added = sum(o.messages for o in report.outcomes if o.status == "updated")
    print(f"{report.format} export: imported {imported} conversation"
          f"{'s' if imported != 1 else ''} ({messages} messages), "
          + (f"{updated} updated ({added} new messages), " if updated else "")
          + f"{present} already there, {skipped} skipped"
          + (f", {empty} empty" if empty else ""))
    return EXIT_SKIPPED if skipped else EXIT_OK
