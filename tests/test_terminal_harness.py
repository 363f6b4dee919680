"""The pty harness the terminal tests and bench_terminal.py read the app through."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.terminal.harness import FRAME_END, FRAME_START, Terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals")


def frame(row: int, text: str) -> bytes:
    return FRAME_START + f"\x1b[{row};1H{text}".encode() + FRAME_END


def test_a_wait_is_met_by_the_frame_that_first_showed_it(tmp_path: Path) -> None:
    """Frames parsed before the waiting thread looked again: the time that counts is the
    arrival of the frame that first showed what was waited for, not of the newest one (the
    lag rows of bench_terminal.py counted the app's later frames, up to 60 ms more)."""
    term = Terminal([sys.executable, "-c", "import time; time.sleep(30)"],
                    env=dict(os.environ), cwd=tmp_path, size=(40, 5))
    try:
        first, later = time.monotonic(), time.monotonic() + 0.25
        with term._changed:  # the parser takes both frames as soon as the wait lets it
            with term._arrivals_ready:
                term._arrivals.extend([(first, frame(1, "zq-marker")),
                                       (later, frame(2, "a later frame"))])
                term._arrivals_ready.notify()
            term.wait_until(lambda text: "zq-marker" in text, what="the marker", timeout=10)
        assert term.matched_frame_arrived == first
        term.wait_until(lambda text: "a later frame" in text, what="the later frame",
                        timeout=10)
    finally:
        term.close()
