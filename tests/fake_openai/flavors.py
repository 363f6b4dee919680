"""What llama.cpp's and vLLM's servers answer beside the OpenAI API, in their own shapes.

Checked against llama.cpp's tools/server (server.cpp routes, server-context.cpp handlers,
server-common.cpp error types) and vLLM's protocol (TokenizeResponse):

- llama.cpp serves ``/tokenize``, ``/apply-template``, ``/props`` and ``/health`` at the server
  root, refuses a prompt of ``n_ctx`` tokens or more (max_tokens is not part of the check)
  with HTTP 400 ``exceed_context_size_error``, and otherwise generates until max_tokens or
  the end of the window (finish_reason "length");
- vLLM serves ``/tokenize`` (a prompt or chat messages) with ``count`` and ``max_model_len``,
  and lists ``max_model_len`` in ``/v1/models``; it refuses prompt + max_tokens over the
  window like OpenAI.
"""

from __future__ import annotations

from typing import Any

from tests.fake_openai.foreign import render_chatml
from tests.fake_openai.hosted import HOSTED_OVERFLOWS
from tests.fake_openai.tokens import Tokenizer

FLAVORS = ("openai", "llamacpp", "vllm", "ollama", "lmstudio")
OVERFLOW_ERRORS = ("openai", "llamacpp", "lmstudio", *HOSTED_OVERFLOWS)
# llama.cpp always has a window; this is what /props says when the test set none.
DEFAULT_N_CTX = 4096


def exceed_context_message(n_prompt: int, n_ctx: int) -> str:
    return (f"request ({n_prompt} tokens) exceeds the available context size ({n_ctx} tokens), "
            "try increasing it")


def exceed_context_body(n_prompt: int, n_ctx: int) -> dict[str, Any]:
    """llama.cpp's overflow error, as it sends it (HTTP 400)."""
    return {"error": {"code": 400, "message": exceed_context_message(n_prompt, n_ctx),
                      "type": "exceed_context_size_error", "n_prompt_tokens": n_prompt,
                      "n_ctx": n_ctx}}


def llamacpp_error(message: str, status: int = 400,
                   type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "type": type_}}


def props_body(n_ctx: int, model: str) -> dict[str, Any]:
    """The part of llama.cpp's ``GET /props`` a client reads."""
    return {"default_generation_settings": {"n_ctx": n_ctx, "params": {"n_predict": -1}},
            "total_slots": 1, "model_alias": model, "model_path": f"/models/{model}.gguf",
            "chat_template": "{# ChatML #}", "bos_token": "<|endoftext|>",
            "eos_token": "<|im_end|>", "build_info": "b0-fake", "is_sleeping": False}


def llamacpp_model_entry(model: str, n_ctx: int) -> dict[str, Any]:
    """A ``/v1/models`` entry as llama.cpp lists it (the window under ``meta``)."""
    return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "llamacpp",
            "meta": {"vocab_type": 2, "n_vocab": 32003, "n_ctx": n_ctx, "n_ctx_train": 4096}}


def tokenize_llamacpp(body: dict[str, Any], tokenizer: Tokenizer) -> dict[str, Any]:
    """``POST /tokenize``: {"content", "add_special", "parse_special", "with_pieces"}.

    The fake model has no BOS token (like the ChatML models llama.cpp serves), so
    ``add_special`` changes nothing; special tokens in the text are parsed by default.
    """
    content = body.get("content")
    if not isinstance(content, str):
        return {"tokens": []}
    parse_special = bool(body.get("parse_special", True))
    encoded = tokenizer.encode(content, parse_special=parse_special)
    if body.get("with_pieces"):
        return {"tokens": [{"id": i, "piece": p} for i, p in encoded]}
    return {"tokens": [i for i, _ in encoded]}


def apply_template(body: dict[str, Any]) -> dict[str, Any]:
    """``POST /apply-template``: the prompt text a chat request becomes."""
    add = body.get("add_generation_prompt", True)
    return {"prompt": render_chatml(body["messages"], add_generation_prompt=bool(add))}


def tokenize_vllm(body: dict[str, Any], tokenizer: Tokenizer, max_model_len: int
                  ) -> dict[str, Any]:
    """vLLM's ``POST /tokenize``: {"model", "prompt"} or {"model", "messages"}."""
    if isinstance(body.get("messages"), list):
        add = body.get("add_generation_prompt", True)
        text = render_chatml(body["messages"], add_generation_prompt=bool(add))
        encoded = tokenizer.encode(text, parse_special=True)
    else:
        encoded = tokenizer.encode(str(body.get("prompt", "")), parse_special=False)
    tokens = [i for i, _ in encoded]
    strs = [p if isinstance(p, str) else bytes(p).decode("utf-8", "replace")
            for _, p in encoded] if body.get("return_token_strs") else None
    return {"count": len(tokens), "max_model_len": max_model_len, "tokens": tokens,
            "token_strs": strs}
