"""The input thread's stop signal (tui/ui/quiet_driver.py): setting the event wakes a select."""

from __future__ import annotations

import select
import sys
import threading

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the Linux/macOS driver")


def test_setting_the_event_makes_its_pipe_readable():
    from tui.ui.quiet_driver import WakingEvent

    event = WakingEvent()
    fd = event.open()
    assert select.select([fd], [], [], 0)[0] == []
    event.set()
    assert select.select([fd], [], [], 0)[0] == [fd]
    event.set()  # twice, the pipe not read: no error, still readable
    assert event.is_set()
    event.close()


def test_a_thread_blocked_on_the_pipe_wakes_when_set():
    from tui.ui.quiet_driver import WakingEvent

    event = WakingEvent()
    fd = event.open()
    woke = threading.Event()

    def wait() -> None:
        select.select([fd], [], [])  # no timeout: only the pipe can end this
        woke.set()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    event.set()
    assert woke.wait(5), "the waiting thread did not wake"
    thread.join(5)
    event.close()


def test_after_close_the_event_still_sets_and_a_new_pipe_opens():
    # Textual closes the driver on a suspend and starts a new input thread on resume.
    from tui.ui.quiet_driver import WakingEvent

    event = WakingEvent()
    event.open()
    event.close()
    event.set()  # no pipe: nothing to write to, no error
    event.clear()
    fd = event.open()
    assert select.select([fd], [], [], 0)[0] == []
    event.set()
    assert select.select([fd], [], [], 0)[0] == [fd]
    event.close()
