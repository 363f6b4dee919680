"""How ``gpt-tui ask`` (and ``context``) end on Ctrl-C (SIGINT) or ``kill``/``timeout``
(SIGTERM). The app takes them through its event loop as well (tui.ui.app).

The event loop takes both signals (``loop.add_signal_handler``): the kernel may hand a
signal to any thread, and the loop's wake-up descriptor is written whichever thread gets it,
so the loop wakes at once and cancels the reply's task between two callbacks. Before,
asyncio.run's own Ctrl-C handler and a SIGTERM handler raising in whatever the main thread
ran did the same, but Python runs such handlers in the main thread only, when it next runs
bytecode. A stress loop on a loaded machine (SIGINT half a second into a 40 tok/s reply)
saw 2 runs in ~350 never end: the task still waited on the reply's socket, its read
timeout a minute away, and no more of the reply was read or printed.

The task's cleanup stores the partial reply as interrupted. If it has not ended ``GRACE``
seconds after the signal, or a second signal comes, the process exits anyway with the
signal's code: the reply was flushed at most half a second before the signal, with its
status still "streaming", and the next program to open the store marks a reply whose writer
has exited as interrupted (tui.core.reply_writers).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

GRACE = 3.0
"""Seconds the reply's cleanup gets after a signal before the process exits regardless."""

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def said_for(signum: int) -> str:
    return "terminated" if signum == signal.SIGTERM else "interrupted"


@dataclass
class SignalEnd:
    """Which signal ended the command (None: none came)."""

    signum: int | None = None

    @property
    def said(self) -> str:
        """How the command says it ended: "interrupted" (Ctrl-C) or "terminated"."""
        return said_for(self.signum or signal.SIGINT)

    @property
    def exit_code(self) -> int:
        """The shell's code for death by that signal: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + (self.signum or 0)


async def ending_on_signals(work: Awaitable[T], ended: SignalEnd,
                            force_exit: Callable[[int], None], *, grace: float = GRACE) -> T:
    """Await ``work`` in the current task; SIGINT or SIGTERM cancels that task (recorded in
    ``ended``), and ``force_exit(signum)`` is called if it has not ended ``grace`` seconds
    later or a second signal comes. Where the loop cannot take signals (Windows, a thread
    other than the main one), ``work`` runs as it is: asyncio.run keeps its Ctrl-C handling.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def on_signal(signum: int) -> None:
        if ended.signum is not None:
            force_exit(ended.signum)
            return
        ended.signum = signum
        log.info("signal %d: ending the command", signum)
        task.cancel()
        loop.call_later(grace, force_exit, signum)

    installed: list[int] = []
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            try:
                loop.add_signal_handler(signum, on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                break
            installed.append(signum)
    try:
        return await work
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def run_until_signal(work: Coroutine[Any, Any, T],
                     force_exit: Callable[[int], None]) -> tuple[T | None, SignalEnd]:
    """``asyncio.run(work)``, ended by SIGINT or SIGTERM as :func:`ending_on_signals` says:
    its result (None when a signal cancelled it) and which signal came, if one did."""
    ended = SignalEnd()
    try:
        return asyncio.run(ending_on_signals(work, ended, force_exit)), ended
    except asyncio.CancelledError:
        if ended.signum is None:
            raise
        return None, ended


def exit_now(code: int, flush: Callable[[], None]) -> None:
    """End the process at once (no cleanup can hang it), after ``flush`` (best effort)."""
    try:
        flush()
    except Exception:  # a closed or full pipe must not keep the process alive
        log.warning("could not flush before exiting", exc_info=True)
    logging.shutdown()
    os._exit(code)
