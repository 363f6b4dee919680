"""The open chat's context meter and "not sent" marker.

A plain helper of the main screen: it computes the meter and the next request's plan (one
load of the history, in a thread, so a long chat or a locked database never stalls the
screen), feeds the status line a reading as the draft changes (throttled), and asks the
server for the model's window once a session. It also opens the context preview and
forgets a learned window (the palette's "Forget learned window").
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.timer import Timer

from tui.core.meter import ContextMeter, MeterReading
from tui.core.pricing import format_cost
from tui.core.models import Conversation, Message, Role
from tui.core.preview import preview_request
from tui.core.services import Services
from tui.core.store import StoreError
from tui.core.windows import format_window
from tui.ui.encoding_load import EncodingLoad

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)

# Meter refresh while typing: at most this often (seconds).
METER_THROTTLE = 0.15
# A long chat's meter loads and plans every message: it starts this long after the chat is
# shown, so it does not compete with the chat's first frames (seconds).
LONG_CHAT_SETTLE = 0.3
# On a server that counts tokens itself (llama.cpp, vLLM) the draft is counted by it once
# typing pauses this long (seconds): one /tokenize a pause, and the meter reads the truth.
DRAFT_COUNT_IDLE = 0.4


class ContextTracker:
    def __init__(self, screen: MainScreen, services: Services) -> None:
        self.screen = screen
        self.services = services
        self.meter: ContextMeter | None = None
        self._timer: Timer | None = None
        self._draft_timer: Timer | None = None
        self._checked_models: set[str] = set()  # asked whether to load on Ollama (below)
        self.encoding = EncodingLoad(self)

    def refresh(self) -> None:
        """Recompute for the open conversation (the newest call wins)."""
        # The function, not a coroutine: if the screen is closing, nothing is left unawaited.
        self.screen.run_worker(self._refresh, group="context", exclusive=True)

    def _shown(self) -> tuple[Conversation | None, object]:
        """The chat on screen as it is stored or will be (an unsaved new chat is metered too,
        so a first message that won't fit shows before it is sent), and what identifies it
        while it stays on screen: the stored id, or the unsaved chat's spec."""
        screen = self.screen
        if screen.conversation is not None:
            return screen.conversation, screen.conversation.id
        spec = screen.new_chat
        return (spec.unsaved(), spec) if spec is not None else (None, None)

    def _still_shown(self, key: object) -> bool:
        screen = self.screen
        if isinstance(key, str):
            return screen.is_open(key)
        return screen.conversation is None and screen.new_chat is key

    async def _refresh(self) -> None:
        screen = self.screen
        conversation, key = self._shown()
        if conversation is None:
            self.meter = None
            screen.status.reading = None
            screen.chat_view.mark_unsent(None, 0, "")
            return
        services = self.services
        view, window = await asyncio.to_thread(
            lambda: (services.context_for(conversation), services.flow.window_for(conversation)))
        if not self._still_shown(key):
            return
        self.meter = view.meter
        self.show_reading()
        screen.chat_view.mark_unsent(view.plan, window, str(conversation.strategy))

    def opened(self, model: str, *, long: bool) -> None:
        """A chat was opened: the meter and the server's counts wait until it is painted
        (a long chat's a little longer: see LONG_CHAT_SETTLE)."""
        warm = partial(self._warm, model)
        if long:
            self.screen.set_timer(LONG_CHAT_SETTLE, warm)
        else:
            self.screen.call_after_refresh(warm)

    def _warm(self, model: str) -> None:
        self.refresh()
        self.probe(model)

    def probe(self, model: str) -> None:
        """Ask a vLLM / llama.cpp server for the model's window (once a session)."""
        self.screen.run_worker(partial(self._probe, model), group="window-probe",
                               exclusive=True)

    async def _probe(self, model: str) -> None:
        flow, store = self.services.flow, self.services.store
        window = await flow.probe_server_window(model)
        conversation, key = self._shown()
        if conversation is None or conversation.model != model:
            return
        # Where the server tokenizes (llama.cpp, vLLM), its counts of the chat's messages
        # (cached by the core) make the meter exact before the first send.
        try:
            # Whether the server tokenizes is asked once a session; only then is the whole
            # chat loaded (off the loop) to be counted.
            if await flow.knowledge.tokenizer(model).probe():
                texts = await asyncio.to_thread(
                    lambda: [conversation.system_prompt]
                    + ([m.content for m in store.load_messages(conversation.id)]
                       if conversation.id else []))
                exact = await flow.knowledge.exact_counts(model, texts)
            else:
                exact = None
        except Exception:  # the meter stays an estimate; the send counts again anyway
            log.warning("counting with the server's tokenizer failed", exc_info=True)
            exact = None
        # On Ollama a model not loaded yet has no window to report, but the guess changes
        # once the server is known to be Ollama (its usual 4k, not the general 8k).
        if ((window or exact is not None or flow.knowledge.runs_ollama)
                and self._still_shown(key)):
            self.refresh()

    def show_reading(self) -> None:
        self._timer = None
        screen = self.screen
        try:
            draft = screen.composer.full_text
            reading = self.meter.reading(draft) if self.meter else None
            screen.status.reading = reading
            screen.status.next_cost = self._next_cost(reading, draft)
            self.encoding.reading_shown(reading, draft)
        except NoMatches:  # the app is quitting: its widgets went while a reading was due
            log.debug("no composer or status line: the screen is being taken down")

    def _next_cost(self, reading: MeterReading | None, draft: str) -> str:
        """The next send's prompt at the model's price, from the meter's own plan: what the
        request will carry, before it goes. Nothing without a price (never an invented $0)."""
        conversation = self._shown()[0]
        if reading is None or conversation is None:
            return ""
        if not conversation.id and not draft.strip():
            return ""  # a new chat with nothing typed: there is nothing to send yet
        price = self.services.price_for(conversation.model)
        if price is None:
            return ""
        return f"send ≈{format_cost(price.cost(reading.tokens, 0))}"

    def draft_changed(self) -> None:
        # Throttled: a paste or fast typing costs one reading per interval, not per key.
        if self._timer is None and self.meter is not None:
            self._timer = self.screen.set_timer(METER_THROTTLE, self.show_reading)
        self._count_draft_when_idle()
        self._load_model_for_draft()

    def _load_model_for_draft(self) -> None:
        """On Ollama, a model whose window is still a guess (never loaded by this server
        with gpt-tui) is loaded as soon as a message is typed for it: only a loaded model's
        window is known, and without it a message too long for the window was stored, then
        refused at the send, where it is refused before anything is stored once the window
        is known. The send would load it anyway; typing hides the wait. Once a model."""
        conversation = self._shown()[0]
        if conversation is None or conversation.model in self._checked_models:
            return
        flow = self.services.flow
        if not flow.knowledge.runs_ollama:
            return
        model = conversation.model
        self._checked_models.add(model)
        if flow.window_info(conversation).source == "guess":
            self.screen.run_worker(partial(self._settle_window, model), group="window-settle")

    async def _settle_window(self, model: str) -> None:
        await self.services.flow.knowledge.settle_window(model)
        conversation = self._shown()[0]
        if conversation is not None and conversation.model == model:
            self.refresh()

    def _count_draft_when_idle(self) -> None:
        """Have a server that tokenizes count the draft once typing pauses: until then the
        meter shows the calibrated guess, which on a chat's first message is the local
        count (711 for a paste llama.cpp counted as 1.2k, in a 512 window)."""
        conversation = self._shown()[0]
        if conversation is None or self.meter is None:
            return
        if not self.services.flow.knowledge.tokenizer(conversation.model).supported:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.screen.set_timer(DRAFT_COUNT_IDLE, self._count_draft)

    def _count_draft(self) -> None:
        self._draft_timer = None
        self.screen.run_worker(self._count_draft_now, group="exact-draft", exclusive=True)

    async def _count_draft_now(self) -> None:
        conversation, key = self._shown()
        try:
            draft = self.screen.composer.full_text
        except NoMatches:  # the app is quitting
            return
        if conversation is None or not draft.strip():
            return
        tokenizer = self.services.flow.knowledge.tokenizer(conversation.model)
        try:
            counted = await tokenizer.count_draft(draft)
        except Exception:  # the guess stays; the send counts it anyway
            log.warning("counting the draft with the server's tokenizer failed",
                        exc_info=True)
            return
        if counted and self.meter is not None and self._still_shown(key):
            self.meter.forget_reading()
            self.show_reading()

    def append(self, message: Message) -> None:
        """A message of the open chat was stored: count it without a reload if it continues
        the path metered, else (a regenerated reply, an edit re-sent) read the path again."""
        if self.meter is None:
            return
        if self.meter.extends(message):
            self.meter.append(message)
            self.show_reading()
            if message.role == Role.ASSISTANT:
                self.screen.run_worker(partial(self._count_exactly, message),
                                       group="exact-reply")
        else:
            self.refresh()

    async def _count_exactly(self, message: Message) -> None:
        """On a server that counts tokens itself (llama.cpp, vLLM) the meter reads as exact,
        but a new reply had only the calibrated guess until the chat was metered anew (the
        next send counts it anyway): the server counts it now, and the meter shows that."""
        conversation, key = self._shown()
        if conversation is None:
            return
        knowledge = self.services.flow.knowledge
        if not knowledge.tokenizer(conversation.model).supported:
            return
        try:
            await knowledge.exact_counts(conversation.model, [message.content])
        except Exception:  # the guess stays; the next send asks again
            log.warning("counting the reply with the server's tokenizer failed",
                        exc_info=True)
            return
        if self.meter is not None and self._still_shown(key):
            self.meter.update_message(message)
            self.show_reading()

    def refusal(self, draft: str) -> MeterReading | None:
        """The meter's reading when ``draft`` can't be sent at all (None: it can, or the
        meter does not know yet)."""
        if self.meter is None or not draft.strip():
            return None
        return self.meter.refusal(draft)

    def open_preview(self) -> None:
        """Show what the next request of the open chat would send (F6); nothing is sent."""
        screen = self.screen
        conversation = screen.conversation
        if conversation is None:
            screen.notify("Open a chat first: the preview shows its next request.",
                          severity="warning")
            return
        from tui.ui.screens.context_preview import ContextPreviewScreen

        flow = self.services.flow
        screen.app.push_screen(ContextPreviewScreen(
            partial(preview_request, flow, conversation), conversation.title or "New chat"))

    async def _ask_server_again(self, model: str) -> None:
        """A forgotten window was most likely wrong (the server restarted with another): a
        vLLM / llama.cpp server is asked for it again now, not at the next session."""
        try:
            await self.services.flow.probe_server_window(model)
        except Exception:  # the window stays the guess; a send asks again
            log.warning("asking the server for the window again failed", exc_info=True)

    async def forget_window(self) -> None:
        """Forget the window learned for the open chat's model on this server."""
        screen = self.screen
        conversation = screen.conversation
        if conversation is None:
            screen.notify("Open a chat first: its model's window is the one forgotten.",
                          severity="warning")
            return
        from tui.ui.screens.context_preview import describe_source

        services = self.services
        model = conversation.model

        def window_now() -> str:
            info = services.flow.window_info(conversation)
            return f"{format_window(info.size)} ({describe_source(info.source)})"

        try:
            removed = await asyncio.to_thread(services.flow.knowledge.forget_window, model)
            if removed:
                await self._ask_server_again(model)
            now = await asyncio.to_thread(window_now)
        except StoreError as error:
            screen.notify(f"Could not forget the window: {error}", severity="error")
            return
        if not removed:
            screen.notify(f"No window was learned for {model} on this server; "
                          f"the window is {now}.", severity="warning")
            return
        screen.notify(f"Forgot the window learned for {model} on this server; "
                      f"the window is now {now}.")
        if screen.is_open(conversation.id):
            self.refresh()
