"""The thread that writes the app's frames to the terminal, made to outlive the terminal.

Textual's writer thread takes text from a queue of at most 30 writes and writes it to the
terminal. When the terminal goes away (its window closed, tmux killed), a write fails with
EIO and the thread dies of it; the app's writes then fill the queue, and the next one, or the
driver's ``close`` at exit (which queues the thread's stop), waits forever for room. The app
then never exits: two were found hours later, holding their databases, after test runs that
killed their tmux. This thread logs the first failed write and goes on taking writes from the
queue, dropping them, until it is told to stop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from textual.drivers import linux_driver
from textual.drivers._writer_thread import WriterThread

__all__ = ["SafeWriterThread", "writer_threads_of"]

log = logging.getLogger(__name__)


class SafeWriterThread(WriterThread):
    """A WriterThread that keeps emptying its queue once the terminal fails."""

    def run(self) -> None:
        get = self._queue.get
        qsize = self._queue.qsize
        try:
            while (text := get()) is not None:
                self._file.write(text)
                if qsize() == 0:
                    self._file.flush()
            self._file.flush()
            return
        except (OSError, ValueError):  # EIO: the terminal is gone; ValueError: file closed
            log.info("the terminal cannot be written to any more", exc_info=True)
        while get() is not None:  # drop what the app still writes, until told to stop
            pass


@contextmanager
def writer_threads_of(kind: type[WriterThread]) -> Iterator[None]:
    """LinuxDriver makes its writer thread by the name its module imported: that name is
    ``kind`` meanwhile (a private name: tests/test_textual_private_api.py checks it)."""
    original = linux_driver.WriterThread
    linux_driver.WriterThread = kind  # type: ignore[misc]
    try:
        yield
    finally:
        linux_driver.WriterThread = original  # type: ignore[misc]
