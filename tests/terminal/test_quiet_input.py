"""Issue 14 (idle is idle): the app left alone does not wake to poll the terminal.

Textual's input thread waited for keys with a 0.1 s timeout, ten wake-ups a second for as
long as the app ran; ``tui/ui/quiet_driver.py`` waits without one. Counted here on the
installed app in a pty, from the kernel's count of each thread's sleeps (Linux /proc), along
with what the timeout was for: a lone Esc still arrives, and Ctrl+Q still ends the app.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

CTRL_P = b"\x10"
ESC = b"\x1b"
WINDOWS = 8
QUIET = 4

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def sleeps(pid: int) -> int:
    """How many times the process's threads have gone to sleep (voluntary switches)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


@linux_only
def test_an_app_left_alone_barely_wakes(launch):
    term = launch(size=(80, 24))
    term.wait_for("Message…")
    # Start-up work (the tokenizer's load once typing pauses, the first checks) takes a
    # moment: the quietest second of the first few counts. Left in it: the store watch's
    # look at the database files, once a second. Polling the terminal added ten a second.
    counts = []
    for _ in range(WINDOWS):
        before = sleeps(term.process.pid)
        time.sleep(1.0)  # the measuring window itself, not a wait for an event
        counts.append(sleeps(term.process.pid) - before)
        if counts[-1] <= QUIET:
            break
    assert min(counts) <= QUIET, f"wake-ups a second of an idle app: {counts}"


def test_a_lone_esc_still_arrives(launch):
    # An Esc alone is told from the start of an escape sequence by a short wait for more
    # bytes: the input thread must wake for that deadline though nothing else comes.
    term = launch(size=(80, 24))
    term.wait_for("Message…")
    term.send(CTRL_P)
    term.wait_for("Search for commands")
    term.send(ESC)
    term.wait_gone("Search for commands", timeout=5)
    term.send("still typing")
    term.wait_for("still typing")


def test_ctrl_q_still_ends_the_app_at_once(launch):
    term = launch(size=(80, 24))
    term.wait_for("Message…")
    started = time.monotonic()
    assert term.quit() == 0
    assert time.monotonic() - started < 5
