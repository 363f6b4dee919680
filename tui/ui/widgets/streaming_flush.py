"""When a streaming reply's tail is redrawn (see ``streaming_markdown``): one timer at most,
set for when the pacer (``stream_pace.FramePacer``) says the text received has paid for a
redraw, and each redraw's cost taken back from the pacer once it has painted.

A mixin of :class:`StreamingMarkdown`, kept apart from what a redraw shows (its ``_flush``)
because this part is only about timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.timer import Timer

from tui.ui.widgets.stream_pace import FramePacer

__all__ = ["FlushSchedule"]


class FlushSchedule:
    """Mixed into StreamingMarkdown, which sets this state up and does the redraw
    (``_flush``). A plain class, not a ``Widget``, for the reason OneLayoutPass gives."""

    FLUSH_INTERVAL: float
    pacer: FramePacer
    _timer: Timer | None
    _timer_due: float
    _timer_in_debt: bool
    _flush_scheduled: bool
    _flush: Callable[..., None]

    def _schedule_flush(self) -> None:
        """One timer at most, and only while text waits to be shown."""
        if self._flush_scheduled:
            return
        if self._timer is not None and not (self._timer_in_debt and self.pacer.credit >= 0):
            return  # per delta: only the credit coming back can bring the update forward
        if not self.is_attached:  # after the cheap checks: it walks up to the app
            return
        now = time.monotonic()
        due = self.pacer.due(now, self.FLUSH_INTERVAL)
        if self._timer is not None:
            if due >= self._timer_due - 0.002:
                return
            self._timer.stop()  # the credit came back before the stale deadline
            self._timer = None
        if due <= now:
            self._flush_scheduled = True
            self.call_later(self._flush)
        else:
            self._timer_due, self._timer_in_debt = due, self.pacer.credit < 0
            self._timer = self.set_timer(due - now, self._flush)

    def _cancel_flush(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._flush_scheduled = False

    def _note_frame(self, started: float, cpu_started: float, refreshes: int = 1) -> None:
        """Pace the next updates by what this one cost (flush, layout and paint): its wall
        time spaces them out (a backlog of updates would show up as lag after the last
        token), its CPU time is spent from the credit the deltas earn.

        An update that mounted views without holding the screen paints twice (its views
        mount after the first frame and lay the screen out again): ``refreshes`` 2 takes
        its cost after a second refresh."""
        if refreshes > 1:
            self.call_after_refresh(self._note_frame, started, cpu_started, refreshes - 1)
            return
        self.pacer.spent(time.monotonic() - started, time.thread_time() - cpu_started,
                         self.FLUSH_INTERVAL)
