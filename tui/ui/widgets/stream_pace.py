"""When a streaming reply is redrawn (see ``streaming_markdown``), whether a redraw needs a
re-layout of the screen, and holding the screen while new block views mount.

Each redraw of a growing reply costs Textual a layout and a paint of the screen (~10-30 ms
in a real terminal), whatever the number of new words. Redrawing on a clock therefore made
CPU follow how long a stream lasts, not how long the reply is: at 200 tok/s the app redrew 25
times a second for a few words each time. The pacer lets each streamed delta earn a little
redraw time and each redraw spend what it cost, so a slow stream is redrawn a few times a
second and a fast one as often as the frame interval allows. The end of a reply is never
paced: the widget's final update is immediate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.content import Content
from textual.widget import AwaitMount, Widget

from tui.ui.widgets.markdown_code import CodeVisual
from tui.ui.widgets.markdown_layout import Prefixed, Rule, Stack
from tui.ui.widgets.markdown_table import TableVisual

__all__ = ["FrameHold", "FramePacer", "MountHolds", "height_changes", "mounted"]

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
"""What a delta earns is counted in tokens of about this many characters (English text)."""


@dataclass
class FramePacer:
    """The redraw schedule of one streaming reply (times in seconds, monotonic clock)."""

    token_budget: float = 0.00012
    """CPU time of redrawing that each streamed token earns: at 200 tok/s 24 ms a second,
    which with ``max_stale`` makes 2 updates a second of a 120x40 screen (each also brings
    a follow-up layout the pacer is not charged for); at 2,000 tok/s as many as the frame
    interval allows. Halved from 0.5 ms (app CPU at 200 tok/s 0.19 -> 0.12 cores in a pty,
    bench/bench_terminal.py --rows cpu), then 0.25 -> 0.2 ms (0.134 -> 0.122) and 0.2 ->
    0.12 ms (0.108 -> 0.098, 2.5 -> 2 updates a second; interleaved runs)."""
    credit_cap: float = 0.03
    """Credit saved at most: after a pause in the stream, the next words show at once."""
    max_stale: float = 0.5
    """Text never waits longer than this to be shown, whatever the credit."""
    max_spacing: float = 0.25
    """Backpressure bound: on a slow machine, still at least 4 redraws a second."""
    frame_share: float = 0.5
    """At most this share of the wall time goes to redrawing (see :meth:`spent`)."""

    credit: float = field(init=False)
    spacing: float = field(init=False, default=0.0)
    """The backpressure interval: a redraw that took long spaces out the next ones."""
    last: float = field(init=False, default=float("-inf"))
    waiting_since: float | None = field(init=False, default=None)
    """When the oldest text not yet shown arrived (None: everything is shown)."""

    def __post_init__(self) -> None:
        self.credit = self.credit_cap

    def earn(self, now: float, chars: int = CHARS_PER_TOKEN) -> None:
        """A delta of ``chars`` characters arrived: it earns by its length, about a token per
        four characters (the client hands on a socket read's text as one delta)."""
        tokens = max(1.0, chars / CHARS_PER_TOKEN)
        self.credit = min(self.credit_cap, self.credit + self.token_budget * tokens)
        if self.waiting_since is None:
            self.waiting_since = now

    def due(self, now: float, interval: float) -> float:
        """When the next redraw may run: ``interval`` after the last one (and the
        backpressure spacing), and once the credit is spent, ``max_stale`` after the last
        one or after the oldest unshown text came, whichever is sooner: text that comes
        after a quiet spell (a slow stream, read twice a second) shows at once, and still
        no more often than every ``max_stale``. ``interval`` 0 means unpaced (tests): at
        once."""
        if interval <= 0:
            return now
        due = self.last + max(interval, self.spacing)
        if self.credit < 0:
            waiting = self.waiting_since if self.waiting_since is not None else now
            due = max(due, min(waiting, self.last) + self.max_stale)
        return due

    def started(self, now: float) -> None:
        """A redraw starts: everything received is being shown."""
        self.last = now
        self.waiting_since = None

    def spent(self, wall: float, cpu: float, interval: float) -> None:
        """What a redraw cost, from its start until the screen was painted."""
        self.spacing = min(self.max_spacing, max(interval, wall / self.frame_share))
        self.credit -= cpu


MEASURED = (Content, Stack, CodeVisual, TableVisual, Prefixed, Rule)
"""Visuals :func:`height_changes` measures (anything else: lay out, as Static would)."""


def height_changes(view: Widget, visual: Any) -> bool:
    """Whether showing ``visual`` changes ``view``'s height: a tail that grew within its
    last line needs a repaint of the view only, not a re-layout of the screen.

    The reply's own visuals are measured: text, code, quotes and lists, stacks of them in
    a fraction of a millisecond; a table keeps the lines it measured for its drawing at
    that width (a table streaming in was laid out for every row it grew by, even within
    the blank rows below the reply)."""
    width, height = view.size
    if not width or not view.is_mounted or not isinstance(visual, MEASURED):
        return True
    try:
        # A view filling the blank rows below its text (stream_runway) keeps its height
        # while the text grows into them.
        return max(visual.get_height(view.styles, width), getattr(view, "min_rows", 0)) != height
    except Exception:  # a visual that cannot say: lay out, as Static would
        return True


async def mounted(parent: Widget, widgets: Sequence[Widget]) -> None:
    """Until every one of ``widgets`` (added under ``parent``) has mounted."""
    await AwaitMount(parent, widgets)


class FrameHold:
    """An app-wide batch update (no painting) that is ended once, from anywhere.

    A screen skips the updates asked for during a batch and takes them up when it next goes
    idle; ended outside the screen's own message loop (from a task), the batch must prompt
    the screen, or it stays frozen until some other message happens to reach it."""

    def __init__(self, app: Any) -> None:
        self._screen = app.screen
        self._batch = app.batch_update()
        self._batch.__enter__()
        self._open = True

    def end(self) -> None:
        if self._open:
            self._open = False
            self._batch.__exit__(None, None, None)
            self._screen.check_idle()


SCREEN_READ_LIMIT = 0.1
"""Longest the screen is held for it to read layout requests passed on (seconds)."""


def pass_on_requests(widgets: Sequence[Widget]) -> None:
    """Hand the screen the layout and repaint requests of ``widgets`` now.

    Textual passes a widget's request on (a message to the screen) when that widget next goes
    idle, each in its own turn, and the screen paints on a timer of its own, not after its
    messages: an update that asked several widgets for a new layout was laid out for some of
    them, then again for the rest (a pty census at 200 tok/s: a second layout after half the
    updates, ~12 ms each). ``_check_refresh`` is private: tests/test_textual_private_api.py
    checks it."""
    for widget in widgets:
        if widget.is_mounted:
            widget._check_refresh()


def paint_now(widget: Widget) -> None:
    """Lay ``widget``'s screen out and paint it now, not on the screen's next tick.

    Textual paints on a timer, at most 60 times a second; a hold that ends between two of
    its ticks waits for the next. For a reply's last words that was up to 17 ms more (a pty
    timeline at 2,000 tok/s: 14 ms between the final update and the start of its frame, the
    tick in between skipped while held). ``Screen._on_timer_update`` (the tick) is private:
    tests/test_textual_private_api.py checks it."""
    if not widget.is_attached:
        return
    screen = widget.screen
    if screen.is_current and not widget.app._batch_count:
        screen._on_timer_update()


async def screen_has_read(widget: Widget) -> None:
    """Until ``widget``'s screen has read what was posted to it so far (a callback queued
    behind it), at most SCREEN_READ_LIMIT seconds."""
    if not widget.is_attached:
        return
    read = asyncio.get_running_loop().create_future()
    widget.screen.call_later(lambda: read.done() or read.set_result(None))
    try:
        await asyncio.wait_for(read, SCREEN_READ_LIMIT)
    except asyncio.TimeoutError:
        log.debug("the screen did not read its messages within %s s", SCREEN_READ_LIMIT)


class MountHolds:
    """Keep the screen from painting until a widget's new views have mounted.

    Textual mounts a widget a few turns of the event loop later and skips unmounted widgets
    when it paints, while a view that was replaced (a streaming reply's tail or open fence,
    now finished blocks) is gone at once: a frame painted in between would lack text that
    was already on screen (at a reply's end, its last words, a frame late). A hold is short
    (a mount takes a few loop turns) and bounded by ``limit`` seconds."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._tasks: dict[FrameHold, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def hold(self, parent: Widget, pending: Sequence[Widget],
             removals: Sequence[Awaitable[None]] = (),
             then: Callable[[], None] | None = None,
             changed: Sequence[Widget] = (), *, at_once: bool = False) -> bool:
        """Hold painting until ``pending`` (added under ``parent``) have mounted and
        ``removals`` (what ``remove()`` returned) are done; then call ``then``. Whether
        there was anything to wait for (if not, nothing is held and ``then`` is not called).
        ``at_once``: paint as soon as the hold ends (:func:`paint_now`; a reply's end).

        Textual lays the parent out again once its new or removed children have settled;
        painted in between, the screen is laid out and painted twice for one update."""
        if not pending and not removals:
            return False
        pass_on_requests(changed)
        hold = FrameHold(parent.app)

        async def settled() -> None:
            if pending:
                await mounted(parent, pending)
            for removal in removals:
                # Awaited here too, Textual's after-removal layout request runs once more:
                # while the screen is held, that is the same layout.
                await removal

        async def release() -> None:
            try:
                await asyncio.wait_for(settled(), self.limit)
                # A new view asks for a layout once mounted: in this frame, not the next.
                pass_on_requests([parent, *pending, *changed])
                await screen_has_read(parent)
            except asyncio.TimeoutError:
                log.debug("views not mounted after %s s", self.limit)
            finally:
                hold.end()
            if at_once:
                paint_now(parent)
            if then is not None:
                then()

        self._start(hold, release())
        return True

    def hold_until_read(self, parent: Widget, widgets: Sequence[Widget], *,
                        at_once: bool = False) -> None:
        """Pass ``widgets``' requests on (:func:`pass_on_requests`) and hold painting until
        the screen has read them: one layout for all of an update's changes (painted as
        soon as the hold ends, ``at_once``)."""
        if not parent.is_attached:
            return
        pass_on_requests(widgets)
        hold = FrameHold(parent.app)

        async def release() -> None:
            try:
                await screen_has_read(parent)
            finally:
                hold.end()
            if at_once:
                paint_now(parent)

        self._start(hold, release())

    def _start(self, hold: FrameHold, release: Coroutine[Any, Any, None]) -> None:
        """Run ``release`` (which ends ``hold``) as a task of its own, kept until done."""
        task = asyncio.get_running_loop().create_task(release)
        self._tasks[hold] = task

        def done(_: asyncio.Task[None]) -> None:
            # Also when the task was cancelled before it ever ran (its finally never runs):
            # a hold left open keeps the screen from painting for good.
            hold.end()
            self._tasks.pop(hold, None)

        task.add_done_callback(done)

    def release(self) -> None:
        """Stop waiting for views that will never mount (removed with their parent, or
        replaced): the screen paints again at once, not after ``limit``."""
        for hold, task in list(self._tasks.items()):
            hold.end()  # at once: a task cancelled before it starts never runs its finally
            task.cancel()
        self._tasks.clear()

    async def wait(self) -> None:
        """Until every hold has ended. A caller that gives up waiting (``wait_for``) leaves
        the holds running: ``gather`` would cancel them with it, ending a hold before its
        views mounted, or, cancelled before it ran, never."""
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()))
