"""The log file: tracebacks the user never sees, kept where a bug report can find them.

Errors reach the user as one line; the traceback behind it goes to ``gpt-tui.log`` in the
platform log folder (``platformdirs.user_log_dir``: ``~/.local/state/gpt-tui/log`` on Linux),
INFO and up by default, DEBUG (plus the HTTP library's request lines) with ``--debug``.

Nothing secret may reach the file: every record passes :class:`RedactingFilter`, which hides
the API key and the credentials of the base URL (registered with :func:`protect` when the
settings are known) and anything shaped like a key or a bearer token. The file is created
0600 in a 0700 folder, and rotates at 1 MB so it never grows without bound.

Logging must never stop the app: a log folder that cannot be created means no log file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from tui.core.hosts import HIDDEN, MIN_SECRET_LENGTH, scrub
from tui.core.paths import ensure_private_folder, log_file_path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"
MAX_BYTES = 1_000_000
BACKUPS = 2

# Shapes of secrets whatever their origin: OpenAI-style keys, bearer tokens, key=value pairs.
_KEY_SHAPES = (
    (re.compile(r"\b(sk-[A-Za-z0-9_-]{2})[A-Za-z0-9_-]{6,}"), rf"\1{HIDDEN}"),
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",]+"), rf"\1{HIDDEN}"),
    (re.compile(r"(?i)(['\"]?(?:api[_-]?key|authorization|x-api-key)['\"]?\s*[:=]\s*['\"]?)"
                r"[^\s'\",}]+"), rf"\1{HIDDEN}"),
)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message and traceback with the secrets hidden."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)
        self._formatter = logging.Formatter()

    def add_secrets(self, secrets: Iterable[str]) -> None:
        known = set(self._secrets)
        known.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        # Longest first, so a secret containing another is hidden whole.
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def redact(self, text: str) -> str:
        text = scrub(text, self._secrets)
        for shape, replacement in _KEY_SHAPES:
            text = shape.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class _PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens, the first and each one after a rotation, is created 0600."""

    def _open(self) -> IO[Any]:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


# The one filter (secrets are added as they become known), the handler setup_logging
# installed, and the logger levels it replaced (restored by reset_logging).
_filter = RedactingFilter()
_handler: logging.Handler | None = None
_saved_levels: dict[str, int] = {}


def protect(*secrets: str | None) -> None:
    """Never write these (the API key, a base URL's credentials) to the log."""
    _filter.add_secrets(s for s in secrets if s)


def redact(text: str) -> str:
    """``text`` as the log would write it."""
    return _filter.redact(text)


def setup_logging(*, debug: bool = False, path: Path | None = None) -> Path | None:
    """Send the app's records to the log file; returns its path, None when it cannot be made.

    Calling it again replaces the previous set-up (tests, a second ``main()``).
    """
    global _handler
    reset_logging()
    path = path or log_file_path()
    try:
        ensure_private_folder(path.parent)
        handler = _PrivateRotatingHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                          encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_filter)
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    root = logging.getLogger()
    _saved_levels.update({"": root.level, "tui": logging.getLogger("tui").level})
    root.addHandler(handler)
    # Other libraries: warnings, or their INFO lines (httpx2's one line per request) in debug.
    root.setLevel(logging.INFO if debug else logging.WARNING)
    logging.getLogger("tui").setLevel(logging.DEBUG if debug else logging.INFO)
    _handler = handler
    logging.getLogger(__name__).debug("log started (debug=%s)", debug)
    return path


def reset_logging() -> None:
    """Remove the handler setup_logging installed (and close its file)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None
    for name, level in _saved_levels.items():
        logging.getLogger(name or None).setLevel(level)
    _saved_levels.clear()
