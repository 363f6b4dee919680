"""When the app's deferred token encoding loads, and what is counted again once it is in.

run_app defers tiktoken's encoding (~50 MB of tables with o200k_base, ~0.3 s of Python
holding the interpreter to build). It is asked for once typing pauses, when the open chat
needs it: near its window (tokens.EXACT_SHARE), or wherever the meter's counts are
calibrated, since the calibration learns from the encoding's counts only. Never while a
reply streams, and a send or the preview that cannot wait loads it themselves.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.timer import Timer

from tui.core.meter import MeterReading

if TYPE_CHECKING:
    from tui.core.tokens import TokenCounter
    from tui.ui.context_tracker import ContextTracker

log = logging.getLogger(__name__)

# The encoding loads once typing has paused this long (seconds): building tiktoken's
# tokenizer holds the interpreter for ~0.3 s, a stall better not felt mid-word.
ENCODING_IDLE = 0.5


class EncodingLoad:
    """The open chat's part in loading the deferred encoding (a helper of ContextTracker)."""

    def __init__(self, tracker: ContextTracker) -> None:
        self.tracker = tracker
        self._timer: Timer | None = None
        self._after_replies = False

    @property
    def _counter(self) -> TokenCounter:
        return self.tracker.services.counter

    def wanted(self, reading: MeterReading | None, draft: str) -> bool:
        """Whether the encoding should load once typing pauses: near the window, or
        wherever the meter reads calibrated counts. The calibration relates the encoding's
        counts to the server's, and without them it learns nothing: on a server counting its
        own way (Ollama, a hosted model not OpenAI's) the meter would read the bare
        estimate, far from the window as well (half the count, on the test server's
        tokenizer that counts about twice what tiktoken does). Where the counts need no calibration (the
        server counts them: llama.cpp, vLLM; or the encoding is the model's own: OpenAI's,
        its window from the built-in table) it waits for the window to come near."""
        meter = self.tracker.meter
        if meter is None or reading is None:
            return False
        if meter.counts_may_matter(draft):
            return True
        return not reading.exact and not reading.own_encoding

    def reading_shown(self, reading: MeterReading | None, draft: str) -> None:
        """The meter read anew (a key, a message stored, another chat): ask for the
        encoding once typing pauses if it is wanted now."""
        if self._counter.deferred and self.wanted(reading, draft):
            self._when_idle()

    def _when_idle(self) -> None:
        """Ask for the encoding once ENCODING_IDLE has passed without a new reading."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.tracker.screen.set_timer(ENCODING_IDLE, self._request)

    def _request(self) -> None:
        """Load the deferred encoding now, or once no reply streams.

        The load (~0.35 s of CPU in Python, holding the GIL in turns with the event loop)
        was asked for 0.5 s after the draft last changed, which a send is: it ran during
        the session's first reply and put the loop behind the stream (a pty, 1k tokens at
        2,000 tok/s: the last words 56-430 ms after the last byte instead of ~25). Counts
        are estimates until it is in, as they were for that reply anyway."""
        tracker = self.tracker
        self._timer = None
        try:
            draft = tracker.screen.composer.full_text
        except NoMatches:  # the app is quitting
            return
        meter = tracker.meter
        if not self.wanted(meter.reading(draft) if meter else None, draft):
            return  # no longer (another chat shown, the draft cut, the server counts)
        if tracker.screen.replies:
            self._after_replies = True
        else:
            self._counter.request_load()

    def replies_changed(self) -> None:
        """The set of streaming replies changed: a load held back for them may start, once
        typing pauses too. Started as the reply ended, it came while the user, who had typed
        during the reply, typed on: tiktoken holds the GIL for ~0.3 s building the encoding,
        and the keys (and the next reply's first words) waited that long (py-spy during a
        pty run: the main thread stalled 276-368 ms with "tiktoken-load" active)."""
        if self._after_replies and not self.tracker.screen.replies:
            self._after_replies = False
            self._when_idle()

    async def before_send(self, draft: str) -> None:
        """Before a send is judged: a draft sent before typing paused long enough for the
        encoding to load was judged on estimates, which read up to ~1/6 high (3x on some
        text), and one that fits the window could be refused. Near the window it loads
        first (~0.3 s, once a session)."""
        meter = self.tracker.meter
        if self._counter.deferred and meter is not None and meter.counts_may_matter(draft):
            await self._counter.load_if_deferred()

    def recount_once_loaded(self) -> None:
        """Counts made before the token encoding came in are estimates, and the meter kept
        them: a chat's first exchange, sent before typing paused long enough to load it,
        read 49 tokens where a recount read 41 (tiny-llama on llama.cpp, until the next
        reload of the chat). The meter counts again once the encoding is in."""
        counter = self._counter
        if counter.exact:
            return
        loop = asyncio.get_running_loop()

        def loaded(_counter: object) -> None:  # on the loader thread
            try:
                loop.call_soon_threadsafe(self._loaded)
            except RuntimeError:  # the app ended first: its loop is closed
                log.debug("the encoding loaded after the app ended", exc_info=True)

        counter.on_loaded(loaded)

    def _loaded(self) -> None:
        tracker = self.tracker
        if tracker.meter is not None and tracker.screen.is_attached:
            tracker.refresh()
