"""Ollama's context window: the one it runs a model with, which its OpenAI endpoint never says.

Ollama runs a model with ``num_ctx`` tokens of context: the Modelfile's ``num_ctx``, else the
server's ``OLLAMA_CONTEXT_LENGTH``, else its default (2,048 in old versions, then 4,096; newer
ones pick 4k to 256k by VRAM), whatever the model was trained for. The OpenAI-compatible
endpoint cannot change it, and a prompt longer than it is **not refused**: the oldest
messages are dropped (system messages kept), then the start of what is left is cut, and
usage counts what was kept. A client that plans for the trained window, or for a fallback of
8k, loses the start of every long chat without a word.

So the window is read from Ollama's own API, at the server root beside ``/v1``:
``GET /api/ps`` lists each loaded model's ``context_length`` (what it runs with now);
a model not loaded is loaded first where a send is about to load it anyway
(``POST /api/generate`` with no prompt); where nothing may be loaded (the meter before any
send), the Modelfile's ``num_ctx`` from ``POST /api/show`` is read, and otherwise the window
stays unknown (the last one learned, or a guess).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.M)

# The window guessed for a model Ollama has not said anything of (not loaded, no num_ctx in
# its Modelfile, or a load that failed): its default on a small GPU. Newer versions pick
# more with more VRAM; before 0.6 it was 2,048. Smaller than the general fallback (8k),
# which Ollama would cut silently. LM Studio loads a model with 4,096 too unless the user
# set another length, and answers a prompt over it with an error, or an empty reply.
GUESS = 4096


@dataclass(frozen=True)
class RuntimeWindow:
    """The window a local server (Ollama, LM Studio) said it runs a model with, and whether
    the model is loaded. ``size`` None: it did not say (not loaded, or too old to say)."""

    size: int | None
    loaded: bool


def same_model(listed: Any, model: str) -> bool:
    """Whether Ollama's name ``listed`` is ``model`` (a name without a tag is ``:latest``)."""
    if not isinstance(listed, str):
        return False
    return listed == model or (":" not in model and listed == f"{model}:latest")


def is_ps_answer(body: Any) -> bool:
    """``GET /api/ps`` answered as Ollama does (a dict with a list of models)."""
    return isinstance(body, dict) and isinstance(body.get("models"), list)


def running_window(ps: Any, model: str) -> RuntimeWindow:
    """The window ``model`` runs with, from ``GET /api/ps`` (not loaded: size None)."""
    for entry in ps.get("models", []) if isinstance(ps, dict) else []:
        if isinstance(entry, dict) and (same_model(entry.get("name"), model)
                                        or same_model(entry.get("model"), model)):
            return RuntimeWindow(_positive_int(entry.get("context_length")), loaded=True)
    return RuntimeWindow(None, loaded=False)


def modelfile_window(show: Any) -> int | None:
    """The ``num_ctx`` a model's Modelfile sets, from ``POST /api/show`` (None: not set)."""
    parameters = show.get("parameters") if isinstance(show, dict) else None
    if not isinstance(parameters, str):
        return None
    match = _NUM_CTX.search(parameters)
    return _positive_int(int(match.group(1))) if match else None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
