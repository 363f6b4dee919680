"""What a session opens on, and the new chat that is not stored until its first message.

A new chat is a :class:`NewConversation`: the model, system prompt and strategy it will get,
held by the front end and handed to ``ChatFlow.send``, which stores the conversation together
with its first message. Opening the app, pressing "new chat" and leaving again leaves nothing
behind in the database.

``gpt-tui --model X`` means "talk to X": the app opens on the latest conversation only when
that one is still empty (and switches it to X); otherwise it opens on a new chat with X.
Without the flag it reopens the latest conversation as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui.core.config import Settings
from tui.core.models import Conversation, ParamValue, Strategy
from tui.core.params import CHAT_SETTINGS
from tui.core.store import Store


@dataclass(frozen=True)
class NewConversation:
    """A chat the user is writing in that has no row yet (see ChatFlow.send).

    It carries every chat setting (tui.core.params.CHAT_SETTINGS), from the config's
    defaults, a persona or the settings form, so the first request already uses them.
    """

    model: str
    system_prompt: str = ""
    strategy: Strategy = Strategy.SUMMARIZE
    title: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    context_window: int | None = None
    json_output: bool = False
    extra_params: dict[str, ParamValue] = field(default_factory=dict, hash=False)

    def settings(self) -> dict[str, Any]:
        """The chat settings, as Store.create_conversation and the settings form take them."""
        return {name: getattr(self, name) for name in CHAT_SETTINGS}

    def unsaved(self) -> Conversation:
        """The conversation this will become, with no id yet: for checks made before storing."""
        return Conversation(id="", title=self.title, **self.settings())


def new_conversation_spec(settings: Settings, *, model: str | None = None,
                          system_prompt: str | None = None,
                          strategy: Strategy | None = None) -> NewConversation:
    """A new chat with this session's model (the --model one, else the configured default)
    and the config's defaults for everything else."""
    return NewConversation(
        model=model or settings.model,
        system_prompt=settings.system_prompt if system_prompt is None else system_prompt,
        strategy=strategy or settings.strategy, temperature=settings.temperature,
        top_p=settings.top_p, max_output_tokens=settings.max_tokens,
        context_window=settings.context_window, json_output=settings.json_output,
        extra_params=dict(settings.extra_params))


def store_new_conversation(store: Store, spec: NewConversation) -> Conversation:
    return store.create_conversation(title=spec.title, **spec.settings())


def conversation_to_open(store: Store, settings: Settings) -> Conversation | NewConversation:
    """The chat the app starts on: the latest stored one, or a new one.

    With --model the session talks to that model: the latest conversation is reused only if
    it is empty (its model switched to the flag's), else a new chat starts.
    """
    latest = store.latest_conversation()
    if not settings.model_from_flag:
        return latest if latest is not None else new_conversation_spec(settings)
    if latest is not None and store.count_messages(latest.id) == 0:
        if latest.model != settings.model:
            latest = store.update_conversation(latest.id, model=settings.model)
        return latest
    return new_conversation_spec(settings)
