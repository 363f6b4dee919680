"""The built-in default model, against a server that does not serve it.

gpt-tui's built-in default model is one of OpenAI's. Pointed at a local server (Ollama,
llama.cpp, vLLM, LM Studio) with no model configured, a new user's first message went to a
model the server does not have: refused with a 404 by most, answered under a name that is
not the model's by llama.cpp (which ignores the name). When the model comes from nowhere but
the built-in default, the server's own list decides: its only model is used for this
session's new chats; among several, the user is told to pick one. A model the user named
(config, environment, ``--model``) is never second-guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.core.config import Settings

SERVER_SOURCE = "server"  # Settings.model_source of a model taken from the server's list


@dataclass(frozen=True)
class UnservedDefault:
    default: str  # the built-in default the server does not list
    served: tuple[str, ...]

    @property
    def only(self) -> str | None:
        """The server's one model: the one to use instead (None among several)."""
        return self.served[0] if len(self.served) == 1 else None

    def notice(self) -> str:
        if self.only is not None:
            return (f"Using {self.only}, this server's only model ({self.default}, the "
                    "built-in default, is not on it). F3, ctrl+d and Enter make it your "
                    "default.")
        return (f"{self.default}, the built-in default, is not on this server: press F3 to "
                f"pick one of its {len(self.served):,} models.")


def model_is_built_in(settings: Settings) -> bool:
    """No model was named (config, environment, ``--model``): the server may be asked."""
    return settings.model_source == "default"


def unserved_default(settings: Settings, served: Iterable[str]) -> UnservedDefault | None:
    """What to tell (and maybe use) when the session's model is the built-in default and
    the server lists models without it; None otherwise (or when the list is empty)."""
    if not model_is_built_in(settings):
        return None
    models = tuple(dict.fromkeys(m for m in served if m))
    if not models or settings.model in models:
        return None
    return UnservedDefault(settings.model, models)


def adopt_served(settings: Settings, found: UnservedDefault) -> bool:
    """Use the server's only model for this session's new chats (nothing is saved)."""
    if found.only is None or settings.model != found.default:
        return False
    settings.model, settings.model_source = found.only, SERVER_SOURCE
    return True
