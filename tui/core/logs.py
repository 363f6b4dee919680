"""The log file: tracebacks of errors the app survived, for a bug report.

It lives in the platform log folder (``platformdirs``), rotates at 1 MB, and records
warnings and errors (everything with ``--debug``). Secrets never reach it: the API key and
any credentials in a URL are masked in every line, the tracebacks included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

from tui.core.paths import APP_NAME

MASK = "***"
# scheme://user:password@host -> scheme://***@host
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
# ?api_key=... / &key=... / &token=...
_QUERY_SECRETS = re.compile(r"(?P<name>[?&](?:api[_-]?key|key|token|access_token)=)[^&\s]+",
                            re.IGNORECASE)


def log_file_path() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)) / "gpt-tui.log"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets and any URL credentials masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _QUERY_SECRETS.sub(lambda m: f"{m['name']}{MASK}", text)


Secrets = Callable[[], Iterable[str]]


class RedactingFormatter(logging.Formatter):
    """Masks secrets in the whole formatted record: message, arguments and traceback.

    ``secrets`` is asked per record: a key pasted into the app later is masked too.
    """

    def __init__(self, secrets: Secrets) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), [s for s in self._secrets() if s])


def setup_logging(*, debug: bool = False, secrets: Secrets = lambda: (),
                  path: Path | None = None) -> Path | None:
    """Send the ``tui`` loggers to the log file; None when it cannot be opened (the app
    runs on without a log rather than not at all)."""
    path = path or log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2,
                                      encoding="utf-8")
        path.chmod(0o600)
    except OSError:
        return None
    handler.setFormatter(RedactingFormatter(secrets))
    logger = logging.getLogger("tui")
    for old in [h for h in logger.handlers if isinstance(h, RotatingFileHandler)]:
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    return path
