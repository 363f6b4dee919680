"""Textual's Linux/macOS terminal driver, with an input thread that sleeps until there is input.

Textual's input thread waits for the terminal with a 0.1 s timeout, to notice when it should
stop and to let a lone Esc go after its wait for the rest of an escape sequence. So an app
left alone still wakes ten times a second, for good: on the 2-core test machine those
wake-ups were most of the idle app's CPU (bench/bench_terminal.py --rows idle), and on a
laptop they keep the CPU out of its deeper sleep states.

This driver's input thread waits without a timeout unless the key parser is waiting for the
rest of a sequence (then exactly until the parser's own deadline), and is woken to stop by a
pipe that the driver's ``exit_event`` writes to when it is set. Everything else, reading,
parsing and dispatching, is Textual's. It leans on private names of Textual's driver and
parser (``tests/test_textual_private_api.py`` checks them for the pinned range). Its writer
thread outlives the terminal (``safe_writer``).
"""

from __future__ import annotations

import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

from tui.ui.safe_writer import SafeWriterThread, writer_threads_of

__all__ = ["QuietLinuxDriver", "WakingEvent"]

READ_SIZE = 4096
"""Bytes read from the terminal at a time (Textual's own figure)."""
FINAL_WAIT = 0.1
"""Longest the stopping thread waits for a pending sequence's deadline (Textual's 0.1 s)."""


class WakingEvent(threading.Event):
    """A threading.Event that, when set, also makes a pipe readable: a thread that waits on
    the pipe (in a select, beside other files) learns of it at once.

    The pipe lives while one thread waits on it (:meth:`open` to :meth:`close`): Textual
    closes the driver on a suspend (the external editor, Ctrl+Z) and starts a new input
    thread on resume, and a file number closed under a running thread may be another file's
    by then. The lock keeps ``set`` from writing to a pipe being closed."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pipe: tuple[int, int] | None = None

    def open(self) -> int:
        """A new pipe for the waiting thread; returns the end to wait on."""
        with self._lock:
            if self._pipe is None:
                read_fd, write_fd = os.pipe()
                os.set_blocking(write_fd, False)
                self._pipe = (read_fd, write_fd)
            return self._pipe[0]

    def close(self) -> None:
        with self._lock:
            pipe, self._pipe = self._pipe, None
        for fd in pipe or ():
            os.close(fd)

    def set(self) -> None:
        super().set()
        with self._lock:
            if self._pipe is not None:
                try:
                    os.write(self._pipe[1], b"x")
                except BlockingIOError:  # already readable: enough to wake anyone
                    pass


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread sleeps until input, a parser deadline, or the stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event = WakingEvent()

    def start_application_mode(self) -> None:
        with writer_threads_of(SafeWriterThread):
            super().start_application_mode()

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events, as Textual's own loop does, without polling."""
        exit_event = self.exit_event
        assert isinstance(exit_event, WakingEvent)
        wake_fd = exit_event.open()
        fileno = self.fileno
        selector = selectors.SelectSelector()  # as Textual: kqueue can't watch a macOS tty
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(wake_fd, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def dispatch(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False
                     ) -> None:
            for last, (key, mask) in loop_last(ready):
                if key.fd != fileno or not mask & selectors.EVENT_READ:
                    continue
                text = decode(os.read(fileno, READ_SIZE), final=final and last)
                if not text:  # stdin piped and at its end
                    break
                for event in feed(text):
                    self.process_message(event)
            for event in tick():
                self.process_message(event)

        def timeout() -> float | None:
            deadline = parser._timeout_time  # a lone Esc waits for the rest of a sequence
            return None if deadline is None else max(0.0, deadline - get_time())

        try:
            while not exit_event.is_set():
                dispatch(selector.select(timeout()))
            selector.unregister(fileno)
            selector.unregister(wake_fd)
            # Textual sleeps FINAL_WAIT here whatever is pending (a select on no files), on
            # every quit and suspend; only a sequence cut short needs its deadline.
            pending = timeout()
            dispatch(selector.select(min(FINAL_WAIT, pending)) if pending is not None else [],
                     final=True)
        finally:
            selector.close()
            exit_event.close()
            try:
                for _ in feed(""):
                    pass
            except (EOFError, ParseError):  # a cut sequence at the end, as Textual
                pass
