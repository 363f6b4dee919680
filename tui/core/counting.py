"""What the chat flow knows about the server it talks to: window, tokenizer, calibration.

One object per flow, so the app, ``gpt-tui ask`` and the preview size requests the same way.
Everything is keyed by the client's (sanitized) base URL and the model: a window learned
from a small llama.cpp box says nothing about the same model name elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from tui.core import ollama
from tui.core.calibration import Calibration
from tui.core.config import Settings
from tui.core.hosts import is_openai_host, sanitize_url
from tui.core.locked_writes import SIDE_PATIENCE, write_soon
from tui.core.models import Conversation
from tui.core.server_tokens import ServerTokenizer
from tui.core.sizing import Sizer
from tui.core.store import Store
from tui.core.tokens import TokenCounter
from tui.core.windows import WindowInfo, window_info

log = logging.getLogger(__name__)


def _log_failure(probe: asyncio.Future[int | None]) -> None:
    """A probe outlives its callers: when it fails with none left (the app quit and closed
    the client meanwhile), its error is logged here rather than by asyncio at collection
    ("Task exception was never retrieved", with a traceback)."""
    if not probe.cancelled() and probe.exception() is not None:
        log.debug("the window probe failed", exc_info=probe.exception())


class ServerKnowledge:
    def __init__(self, store: Store, counter: TokenCounter, settings: Settings,
                 client) -> None:
        self.store = store
        self.counter = counter
        self.settings = settings
        self.client = client
        self._tokenizers: dict[tuple[str, str], ServerTokenizer] = {}
        self._calibrations: dict[tuple[str, str], Calibration] = {}
        self._extra_fixed: dict[tuple[str, str], int] = {}
        self._probes: dict[tuple[str, str], asyncio.Future[int | None]] = {}
        # Base URLs found to be Ollama: asked at every probe (its window is the one it runs
        # the model with, which changes with each load), not once a session.
        self._ollama: set[str] = set()
        # Base URLs found to be LM Studio: a model it has not loaded is guessed at its default.
        self._lmstudio: set[str] = set()
        self._ollama_said: dict[tuple[str, str], int] = {}  # (server, model): its window
        # Windows learned but not stored yet (another program held the lock): (size, source)
        # by (server, model), read before the store's.
        self._unsaved_windows: dict[tuple[str, str], tuple[int, str]] = {}
        # The smallest request (tokens) refused as too long without a number, by (server,
        # model), as read from the store or learned since (tui.core.accepted_window).
        self._refused: dict[tuple[str, str], int | None] = {}

    @property
    def server(self) -> str:
        """The sanitized base URL: what keys everything learned here."""
        return sanitize_url(self.client.base_url)

    # -- windows ---------------------------------------------------------------------------

    def window(self, conversation: Conversation) -> WindowInfo:
        unsaved = self._unsaved_windows.get((self.server, conversation.model))
        if unsaved is not None:
            learned, source = unsaved
        else:
            stored = self.store.model_window(conversation.model, self.client.base_url)
            learned, source = (stored.context_window, stored.source) if stored else (None,
                                                                                   "server")
        info = window_info(
            conversation.model,
            overrides=self.settings.context_windows,
            learned=learned,
            learned_source=source,
            conversation=conversation.context_window,
        )
        if self.client.base_url in self._ollama:
            if learned and learned < info.size and source == "server":
                # A window set in the config or on the chat is capped at the one Ollama runs
                # the model with: Ollama cuts a longer prompt without a word.
                return WindowInfo(learned, "server")
        if info.source == "guess" and (self.client.base_url in self._ollama
                                       or self.client.base_url in self._lmstudio):
            # A model not loaded yet: both load it with 4k unless told otherwise.
            return WindowInfo(ollama.GUESS, "guess")
        return info

    def learn_window(self, model: str, size: int, source: str) -> None:
        """Known at once (the plan right after an overflow uses it); stored without waiting
        on the event loop for a lock another program holds (``write_soon``)."""
        key, learned = (self.server, model), (int(size), source)
        self._unsaved_windows[key] = learned
        store, base_url, unsaved = self.store, self.client.base_url, self._unsaved_windows

        refused = self._refused.get(key)

        def save() -> None:
            if unsaved.get(key) is not learned:  # forgotten, or learned again, meanwhile
                return
            store.set_model_window(model, size, source=source, base_url=base_url,
                                   refused=refused)
            if unsaved.get(key) is learned:
                del unsaved[key]

        write_soon(store, save, patience=SIDE_PATIENCE)

    def forget_window(self, model: str) -> int:
        """Forget the window learned for ``model`` on this server, and that the server was
        asked this session: the next send asks it again. Rows removed. Blocking (waits for
        the lock): for a thread."""
        self._unsaved_windows.pop((self.server, model), None)
        self._refused.pop((self.server, model), None)
        self._ollama_said.pop((self.server, model), None)
        self._probes.pop((self.client.base_url, model), None)
        return self.store.forget_model_window(model, self.client.base_url)

    def note_refused(self, model: str, tokens: int) -> None:
        """A request of ``tokens`` was refused as too long, with no window or count said.
        Stored with the window (a later process tries below it), without waiting on a lock."""
        key = (self.server, model)
        self._refused[key] = min(self.refused_size(model) or tokens, tokens)
        store, base_url = self.store, self.client.base_url
        write_soon(store, lambda: store.note_refused_size(model, tokens, base_url),
                   patience=SIDE_PATIENCE)

    def refused_size(self, model: str) -> int | None:
        """The smallest request refused without numbers: this session's, else the stored one
        (read once a session)."""
        key = (self.server, model)
        if key not in self._refused:
            stored = self.store.model_window(model, self.client.base_url)
            self._refused[key] = stored.refused if stored is not None else None
        return self._refused[key]

    async def probe_window(self, model: str) -> int | None:
        """Ask the server (vLLM, llama.cpp, Ollama) for the model's window, once per session
        (Ollama at every call: see settle_window).

        OpenAI's own models are in the built-in table, so api.openai.com is not asked.
        Concurrent callers share one probe, and a cancelled caller does not cancel it.
        """
        if is_openai_host(self.client.base_url):
            return None
        if self.client.base_url in self._ollama:
            return await self._ask_ollama(model, load=False)
        key = (self.client.base_url, model)
        probe = self._probes.get(key)
        if probe is None:
            probe = self._probes[key] = asyncio.ensure_future(self._probe(model))
            probe.add_done_callback(_log_failure)
        return await asyncio.shield(probe)

    async def _probe(self, model: str) -> int | None:
        window = await self.client.server_context_window(model)
        if window:
            self.learn_window(model, window, "server")
            return window
        studio = await self.client.lmstudio_window(model)
        if studio is not None:
            self._lmstudio.add(self.client.base_url)
            if studio.size:
                self.learn_window(model, studio.size, "server")
            elif not studio.loaded:  # its first request loads it: asked again then
                self._probes.pop((self.client.base_url, model), None)
            return studio.size
        ollama = await self.client.ollama_window(model)
        if ollama is None:
            return None
        self._ollama.add(self.client.base_url)
        return self._learn_ollama(model, ollama.size)

    @property
    def runs_ollama(self) -> bool:
        """The server was found to be Ollama (by a probe this session)."""
        return self.client.base_url in self._ollama

    async def settle_window(self, model: str) -> None:
        """Right before a send is planned: the server's window (probe_window), and on Ollama
        the one the model will run with, the model loaded first if it is not (the send would
        load it anyway, and only a loaded model's window is certain). Ollama cuts a prompt
        over that window silently, so a guess or an earlier load's window is not enough."""
        if self.client.base_url not in self._ollama:
            await self.probe_window(model)
        if self.client.base_url in self._ollama:
            await self._ask_ollama(model, load=True)

    async def _ask_ollama(self, model: str, *, load: bool) -> int | None:
        found = await self.client.ollama_window(model, load=load)
        return self._learn_ollama(model, found.size if found else None)

    def _learn_ollama(self, model: str, size: int | None) -> int | None:
        """Keep what Ollama said (stored once a session, and when it changes); unknown
        keeps what is known."""
        if not size:
            return None
        key = (self.server, model)
        if self._ollama_said.get(key) != size:
            self._ollama_said[key] = size
            self.learn_window(model, size, "server")
        return size

    # -- counting --------------------------------------------------------------------------

    def tokenizer(self, model: str) -> ServerTokenizer:
        key = (self.client.base_url, model)
        tokenizer = self._tokenizers.get(key)
        if tokenizer is None or tokenizer.client is not self.client:
            tokenizer = self._tokenizers[key] = ServerTokenizer(self.client, model, self.store)
        return tokenizer

    async def exact_counts(self, model: str, texts: Iterable[str]) -> ServerTokenizer | None:
        """The server's tokenizer with ``texts`` counted, or None when it can't count."""
        tokenizer = self.tokenizer(model)
        if not await tokenizer.probe():
            return None
        await tokenizer.count_texts(texts)
        return tokenizer

    def calibration(self, conversation: Conversation | None, model: str) -> Calibration:
        key = (self.server, model)
        calibration = self._calibrations.get(key)
        if calibration is None:
            state = self.store.calibration(self.server, model)
            if state is not None:
                calibration = Calibration.from_state(state)
            elif conversation is not None and conversation.token_correction > 0:
                calibration = Calibration.from_ratio(conversation.token_correction)
            else:
                calibration = Calibration()
            self._calibrations[key] = calibration
        return calibration

    def learn_count(self, model: str, local: int, server: int, *, exact: bool,
                    at_least: bool = False) -> None:
        """One request's (local, server) prompt counts: from usage or an overflow error.
        ``at_least``: the server counted only what it kept of a prompt it cut, a lower bound
        (Calibration.raise_to). ``exact``: ``local`` is the encoding's count. An estimate
        is not learned: the line relates the encoding's counts to the server's, and an
        estimate reads 0.7-1.2 of the encoding's (3x on some text). Learned from estimates
        while a chat was far from its window (the encoding not loaded), the line then
        under-counted the exact counts planned near it."""
        if local <= 0 or server <= 0 or not exact:
            return
        calibration = self.calibration(None, model)
        if at_least:
            calibration.raise_to(local, server)
        else:
            calibration.learn(local, server)
        # Kept in memory above; stored without waiting on the event loop for a lock another
        # program holds.
        state, store, where = calibration.state(), self.store, self.server
        write_soon(store, lambda: store.set_calibration(where, model, state),
                   patience=SIDE_PATIENCE)

    def learn_usage(self, model: str, local: int, server: int, window: int, *,
                    exact: bool) -> bool:
        """A request's usage (chat, summary, title) learned; True when it says the server
        cut the prompt to fit ``window`` without a word, its count then only a floor.

        That is Ollama counting (about) its whole window, which no request planned here
        fills (the reply's room is kept free): it cuts only what does not fit, so this is a
        count far above the estimate, most often a first request before any calibration.
        A server that refuses what does not fit (every other) never cuts."""
        cut = (self.client.base_url in self._ollama
               and server >= window - max(16, window // 100))
        self.learn_count(model, local, server, exact=exact, at_least=cut)
        return cut

    def sizer(self, conversation: Conversation, *, model: str | None = None) -> Sizer:
        model = model or conversation.model
        tokenizer = self._tokenizers.get((self.client.base_url, model))
        if tokenizer is not None and tokenizer.supported:
            key = (self.client.base_url, model)
            return Sizer(self.counter, self.calibration(conversation, model), tokenizer,
                         extra_fixed=self._extra_fixed.get(key, 0))
        return Sizer(self.counter, self.calibration(conversation, model))

    def note_exact_total(self, model: str, planned: int, exact: int) -> None:
        """A whole request counted exactly: fold the template's unaccounted part in."""
        key = (self.client.base_url, model)
        self._extra_fixed[key] = max(0, self._extra_fixed.get(key, 0) + exact - planned)
