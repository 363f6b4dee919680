"""The writer thread outlives the terminal (tui/ui/safe_writer.py): once a write fails (EIO,
the terminal gone), the app's writes and the driver's stop still go through. Textual's own
thread died on that write, its queue of 30 filled, and the app hung at exit for good."""

from __future__ import annotations

import errno
import threading

import pytest
from textual.drivers import linux_driver
from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

from tui.ui.safe_writer import SafeWriterThread, writer_threads_of


class GoneTerminal:
    """A terminal whose window was closed: every write fails with EIO."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise OSError(errno.EIO, "Input/output error")

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return 1


def writes_then_stops(thread: WriterThread, within: float = 5.0) -> bool:
    """Whether 100 writes and a stop finish within ``within`` s (run aside: they may
    never)."""
    def work() -> None:
        for n in range(100):
            thread.write(f"frame {n}")
        thread.stop()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(within)
    return not worker.is_alive()


def test_writes_and_the_stop_go_through_once_the_terminal_is_gone():
    terminal = GoneTerminal()
    thread = SafeWriterThread(terminal)  # type: ignore[arg-type]
    thread.start()
    assert writes_then_stops(thread)
    assert terminal.writes == 1  # it tried once, then dropped the rest
    assert not thread.is_alive()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_textuals_own_thread_hangs_there():
    """Why the class exists (if Textual's thread stops hanging, this says so)."""
    thread = WriterThread(GoneTerminal())  # type: ignore[arg-type]
    thread.start()
    assert MAX_QUEUED_WRITES < 100
    # Its queue of 30 fills at once: a second is plenty to see it hang.
    assert not writes_then_stops(thread, within=1.0)


def test_the_driver_makes_safe_writers_only_while_asked():
    original = linux_driver.WriterThread
    with writer_threads_of(SafeWriterThread):
        assert linux_driver.WriterThread is SafeWriterThread
    assert linux_driver.WriterThread is original
