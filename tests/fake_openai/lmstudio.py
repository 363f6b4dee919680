"""What LM Studio answers beside its OpenAI endpoint (the ``lmstudio`` flavor of the test
server), after its REST API docs (``GET /api/v0/models``) and the errors its users report:

- a model runs with the context length it was loaded with (4,096 unless the user picked
  another), listed as ``loaded_context_length`` while it is loaded, beside the trained
  ``max_context_length``; a model not loaded is loaded by its first request;
- a prompt over that window is refused with HTTP 400 and llama.cpp's words about the
  tokens to keep (``n_keep``) and the context length (``n_ctx``).
"""

from __future__ import annotations

from typing import Any

DEFAULT_CONTEXT = 4096
TRAINED_CONTEXT = 131_072


def models_body(models: list[str], loaded: dict[str, int]) -> dict[str, Any]:
    """``GET /api/v0/models``: every model, loaded or not, and its windows."""
    data = []
    for model in models:
        entry: dict[str, Any] = {
            "id": model, "object": "model", "type": "llm", "publisher": "lmstudio-community",
            "arch": "llama", "compatibility_type": "gguf", "quantization": "Q4_K_M",
            "state": "loaded" if model in loaded else "not-loaded",
            "max_context_length": TRAINED_CONTEXT}
        if model in loaded:
            entry["loaded_context_length"] = loaded[model]
        data.append(entry)
    return {"object": "list", "data": data}


def overflow_body(prompt: int, n_ctx: int) -> dict[str, Any]:
    """The 400 LM Studio answers a prompt over the loaded context."""
    return {"error": {"message": (
        "The number of tokens to keep from the initial prompt is greater than the context "
        f"length (n_keep: {prompt} >= n_ctx: {n_ctx}). Try to load the model with a larger "
        "context length, or provide a shorter prompt."), "type": "invalid_request_error"}}
