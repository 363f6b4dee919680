"""The ``gpt-tui`` command: the full-screen app by default, plus scriptable subcommands.

``list``, ``export`` and ``search`` only read: they open the database with
``create=False`` so they never create a file, and a missing database simply has nothing
to show. Every failure is one ``gpt-tui: error: ...`` line on stderr, never a traceback
(that goes to the log file, see :mod:`tui.core.logs`): exit 2 for bad usage (including an
unknown or ambiguous id) and for a bad config file, whichever the command, 1 when the
database cannot be used. ``search`` exits 1 when nothing matches, as grep does, and an empty
``list`` says so on stderr. The parser is :mod:`tui.cli_parser`; ``ask`` and the other
commands live in their own modules.

Start-up cost: only the command given is built (``tui.cli_parser``), and its module imports
only what its arguments need. Each command imports its own machinery when it runs:
``--version`` loads nothing else, ``list``/``search``/``export`` never load the openai SDK
or Textual, ``ask`` never loads Textual (tests/test_cli_imports.py checks it in a fresh
interpreter).

``gpt-tui list | head`` stops at the first write that finds the reader gone: no traceback
and exit status 0, as ``git log | head`` does in practice (the partial output is what the
reader asked for).
"""

from __future__ import annotations

import argparse
import atexit
import errno
import logging
import os
import sys
import threading
from contextlib import AbstractContextManager
from typing import NoReturn

from tui import __version__
from tui.cli_parser import build_parser
from tui.cli_support import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    silence_closed_output,
)

log = logging.getLogger(__name__)

# Writing the output failed for a reason its reader can act on (a full disk, a device gone).
WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG})


# -- helpers --------------------------------------------------------------------------------

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
    if sys.stdout is None:  # started with stdout closed (`gpt-tui list >&-`)
        if sys.stderr is not None:
            print("gpt-tui: error: standard output is closed", file=sys.stderr)
        return EXIT_USAGE
    try:
        # Parsing imports the command's module (see tui.cli_parser); its big imports wait.
        with _importing():
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as exit_:  # --help, --version, usage errors
                return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
        return _run(args)
    except KeyboardInterrupt:
        print("gpt-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`gpt-tui list | head`): not an error worth a message.
        silence_closed_output(sys.stdout)
        return EXIT_OK
    except OSError as error:
        if error.errno not in WRITE_FAILURES:
            return _unexpected(error)
        log.warning("output failed", exc_info=True)
        print(f"gpt-tui: error: could not write the output: {error.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - the promise is: never a traceback
        return _unexpected(error)


def _unexpected(error: Exception) -> int:
    log.error("unexpected error", exc_info=error)
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
    except (UsageError, ConfigError, NotFound, AmbiguousId) as error:
        log.info("stopped: %s", error)
        print(f"gpt-tui: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as error:
        log.warning("database error", exc_info=True)
        print(f"gpt-tui: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
