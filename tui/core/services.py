"""Wiring: build the store, client, token counter and chat flow from settings.

Both front ends (the app and ``gpt-tui ask``) start here, so they resolve settings, the
database and the API key the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from tui.core.chat import ChatFlow
from tui.core.client import ChatClient
from tui.core.config import Settings, load_settings, protect_secrets
from tui.core.context import RequestPlan, budget_for
from tui.core.meter import ContextMeter
from tui.core.models import Conversation
from tui.core.paths import resolve_db_path
from tui.core.pricing import Price, price_for
from tui.core.store import Store
from tui.core.tokens import TokenCounter
from tui.core.windows import FALLBACK_WINDOW

OPENAI_BASE_URL = "https://api.openai.com/v1"


def needs_setup(settings: Settings) -> bool:
    """No key and no server: the app should explain how to configure one."""
    return not settings.api_key and not settings.base_url


def make_client(settings: Settings) -> ChatClient:
    """The client decides per host whether the real key may be sent (see key_for_host)."""
    return ChatClient(base_url=settings.base_url or OPENAI_BASE_URL, api_key=settings.api_key,
                      timeout=settings.request_timeout,
                      send_key_to_any_host=settings.key_allowed_for_host)


@dataclass
class ContextView:
    """How full a conversation's window is, and what its next request would leave out."""

    meter: ContextMeter
    # None when even the newest message cannot fit (sending explains that).
    plan: RequestPlan | None


@dataclass
class Services:
    settings: Settings
    store: Store
    client: ChatClient
    counter: TokenCounter
    flow: ChatFlow

    def context_for(self, conversation: Conversation) -> ContextView:
        """The meter and the next request's plan, from one load of the stored history and
        one Sizer: the meter's empty-draft reading is this plan."""
        stored = bool(conversation.id)  # an unsaved new chat has no history yet
        history = self.store.load_messages(conversation.id) if stored else []
        summary = self.store.latest_summary(conversation.id) if stored else None
        sizer = self.flow.knowledge.sizer(conversation)
        info = self.flow.window_info(conversation)
        plan = self.flow.preview(conversation, history=history, summary=summary, sizer=sizer)
        meter = ContextMeter(self.counter)
        meter.set_conversation(
            system_prompt=conversation.system_prompt,
            history=history,
            summary=summary,
            budget=budget_for(info.size, conversation.max_output_tokens),
            strategy=conversation.strategy,
            sizer=sizer,
            window_source=info.source,
            beyond=(budget_for(FALLBACK_WINDOW, conversation.max_output_tokens)
                    if info.source == "accepted" else None),
        )
        return ContextView(meter, plan)

    def price_for(self, model: str, server: str | None = None) -> Price | None:
        """The price of ``model`` on ``server`` (default: the server in use); None: unknown."""
        return price_for(model, server or self.client.base_url, self.settings.prices)

    def reconfigure(self, *, api_key: str | None = None, base_url: str | None = None) -> None:
        """Apply a key or server given at run time (the set-up panel) to a new client."""
        if api_key is not None:
            self.settings.api_key, self.settings.api_key_source = api_key, "config"
        if base_url is not None:
            self.settings.base_url, self.settings.base_url_source = base_url, "config"
        protect_secrets(self.settings)
        old = self.client
        self.client = make_client(self.settings)
        self.flow.client = self.client
        self._retired.append(old)

    async def aclose(self) -> None:
        for client in [*self._retired, self.client]:
            await client.aclose()
        self._retired.clear()
        self.close()

    def close(self) -> None:
        self.store.close()

    def __post_init__(self) -> None:
        self._retired: list[ChatClient] = []


def open_services(*, db_path: str | Path | None = None,
                  flags: Mapping[str, Any] | None = None,
                  load_encoding: bool = True, create: bool = True) -> Services:
    """Resolve settings and open everything. Raises ConfigError / StoreError (NoDatabase
    when ``create`` is False and there is no database)."""
    settings = load_settings(flags=flags)
    store = Store(resolve_db_path(db_path), create=create)
    counter = TokenCounter(settings.model)
    if load_encoding:
        counter.start_loading()
    client = make_client(settings)
    flow = ChatFlow(store, client, counter, settings)
    return Services(settings=settings, store=store, client=client, counter=counter, flow=flow)
