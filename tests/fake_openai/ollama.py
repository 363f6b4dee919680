"""What Ollama answers beside its OpenAI endpoint, and how it fits a prompt into its window.

Checked against Ollama's docs (api.md: /api/ps, /api/show, /api/generate, /api/version;
context-length.mdx) and the behaviour its users report (server/prompt.go's truncation):

- a model runs with ``num_ctx`` tokens of context: the Modelfile's ``num_ctx``, else the
  server's ``OLLAMA_CONTEXT_LENGTH``, else its default (4,096 on a small GPU), whatever the
  model was trained for; the OpenAI-compatible endpoint cannot change it;
- ``GET /api/ps`` lists the loaded models, each with its ``context_length``; a model loads on
  its first request, or on ``POST /api/generate`` with no prompt;
- ``POST /api/show`` gives the Modelfile's parameters (``num_ctx`` only when it sets one) and
  ``model_info`` with the trained window (``<arch>.context_length``);
- a chat prompt longer than ``num_ctx`` is **not refused**: the oldest messages are dropped
  (system messages and the newest message kept), and when that is not enough the start of
  what is left is cut; usage then counts what was kept. Nothing says it happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = "0.13.0"
DEFAULT_NUM_CTX = 4096
TRAINED_CONTEXT = 131_072
# Tokens the runner keeps from the start of a prompt it cuts (BOS and the template's head).
KEEP = 4


def resolve(name: str, models: list[str]) -> str | None:
    """Ollama's name for ``name``: itself, or with the ``:latest`` tag it implies."""
    for candidate in (name, f"{name}:latest"):
        if candidate in models:
            return candidate
    return None


def model_entry(model: str, created: int) -> dict[str, Any]:
    """A ``/v1/models`` entry as Ollama lists it."""
    return {"id": model, "object": "model", "created": created, "owned_by": "library"}


def _details() -> dict[str, Any]:
    return {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
            "parameter_size": "8.0B", "quantization_level": "Q4_K_M"}


def ps_body(loaded: dict[str, int]) -> dict[str, Any]:
    """``GET /api/ps``: the loaded models and the window each runs with."""
    return {"models": [{"name": model, "model": model, "size": 6_000_000_000,
                        "digest": "0" * 64, "details": _details(),
                        "expires_at": "2026-12-03T12:00:00Z", "size_vram": 6_000_000_000,
                        "context_length": num_ctx}
                       for model, num_ctx in loaded.items()]}


def show_body(model: str, modelfile_num_ctx: int | None) -> dict[str, Any]:
    """``POST /api/show``: parameters as the Modelfile sets them, the trained window."""
    parameters = 'stop                           "<|im_start|>"\nstop                           "<|im_end|>"'
    if modelfile_num_ctx is not None:
        parameters += f"\nnum_ctx                        {modelfile_num_ctx}"
    return {"modelfile": f"FROM {model}\n", "parameters": parameters,
            "template": "{{ .Prompt }}", "details": _details(),
            "model_info": {"general.architecture": "llama",
                           "llama.context_length": TRAINED_CONTEXT},
            "capabilities": ["completion"]}


def load_body(model: str) -> dict[str, Any]:
    """``POST /api/generate`` with no prompt: the model is loaded, nothing generated."""
    return {"model": model, "created_at": "2026-12-03T12:00:00Z", "response": "",
            "done": True, "done_reason": "load"}


def not_found_body(model: str) -> dict[str, Any]:
    return {"error": f"model '{model}' not found"}


def fit_prompt(messages: list[dict[str, Any]], num_ctx: int,
               count: Callable[[list[dict[str, Any]]], int]) -> tuple[int, int]:
    """What Ollama evaluates of a chat prompt: (prompt tokens kept, tokens lost).

    The newest messages that fit are kept with every system message; if even the newest
    message does not fit, the start of the prompt is cut to ``num_ctx`` tokens (the first
    KEEP kept). ``tokens lost`` is 0 when the whole prompt went in.
    """
    whole = count(messages)
    if whole <= num_ctx:
        return whole, 0
    system = [m for m in messages if m.get("role") == "system"]
    rest = [m for m in messages if m.get("role") != "system"]
    for start in range(1, len(rest)):
        kept = count(system + rest[start:])
        if kept <= num_ctx:
            return kept, whole - kept
    return num_ctx, whole - num_ctx
