"""What every subcommand shares: exit statuses, the usage error, opening the store to read.

Kept apart from ``tui.cli`` so the commands' own modules can use them without importing the
parser (no cycle), and as small as the start-up budget of ``--version`` asks.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # imported by the commands that use it, when they run
    from tui.core.store import Store

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Reported as one line with exit status 2."""


def silence_closed_output(out: TextIO) -> None:
    """Point ``out``'s descriptor at /dev/null once its reader went away (``| head``), so the
    interpreter's final flush does not fail again and print a traceback at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no descriptor (a test's StringIO)
        pass


def utf8_text(text: str, what: str) -> str:
    """``text`` if it can be sent and stored as UTF-8. Bytes that are not UTF-8 arrive from
    the command line or a pipe as lone surrogates, which no request or database takes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not UTF-8 text") from None
    return text


def open_store(args: argparse.Namespace) -> Store:
    """The existing database (``--db``, else the default): reading never creates one."""
    from tui.core.paths import resolve_db_path
    from tui.core.store import Store

    return Store(resolve_db_path(args.db), create=False)
