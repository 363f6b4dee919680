"""The open chat's context meter and "not sent" marker.

A plain helper of the main screen: it computes the meter and the next request's plan (one
load of the history, in a thread, so a long chat or a locked database never stalls the
screen), feeds the status line a reading as the draft changes (throttled), and asks the
server for the model's window once a session.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from textual.timer import Timer

from tui.core.meter import ContextMeter
from tui.core.models import Message
from tui.core.services import Services

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

# Meter refresh while typing: at most this often (seconds).
METER_THROTTLE = 0.15


class ContextTracker:
    def __init__(self, screen: MainScreen, services: Services) -> None:
        self.screen = screen
        self.services = services
        self.meter: ContextMeter | None = None
        self._timer: Timer | None = None

    def refresh(self) -> None:
        """Recompute for the open conversation (the newest call wins)."""
        # The function, not a coroutine: if the screen is closing, nothing is left unawaited.
        self.screen.run_worker(self._refresh, group="context", exclusive=True)

    async def _refresh(self) -> None:
        screen = self.screen
        conversation = screen.conversation
        if conversation is None:
            self.meter = None
            screen.status.reading = None
            screen.chat_view.mark_unsent(None, 0, "")
            return
        services = self.services
        view, window = await asyncio.to_thread(
            lambda: (services.context_for(conversation), services.flow.window_for(conversation)))
        if not screen.is_open(conversation.id):
            return
        self.meter = view.meter
        self.show_reading()
        screen.chat_view.mark_unsent(view.plan, window, str(conversation.strategy))

    def probe(self, model: str) -> None:
        """Ask a vLLM / llama.cpp server for the model's window (once a session)."""
        self.screen.run_worker(partial(self._probe, model), group="window-probe",
                               exclusive=True)

    async def _probe(self, model: str) -> None:
        window = await self.services.flow.probe_server_window(model)
        conversation = self.screen.conversation
        if window and conversation is not None and conversation.model == model:
            self.refresh()

    def show_reading(self) -> None:
        self._timer = None
        screen = self.screen
        screen.status.reading = self.meter.reading(screen.composer.text) if self.meter else None

    def draft_changed(self) -> None:
        # Throttled: a paste or fast typing costs one reading per interval, not per key.
        if self._timer is None and self.meter is not None:
            self._timer = self.screen.set_timer(METER_THROTTLE, self.show_reading)

    def append(self, message: Message) -> None:
        """A message of the open chat was stored: count it without a reload."""
        if self.meter is not None:
            self.meter.append(message)
            self.show_reading()

    def excess(self, draft: str) -> int:
        """How many tokens too long ``draft`` is for the window (0: it fits, or unknown)."""
        return self.meter.excess(draft) if self.meter is not None and draft.strip() else 0
