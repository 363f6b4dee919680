"""Context window table, precedence, and parsing servers' "too long" errors."""

from __future__ import annotations

import pytest

from tui.core.windows import (
    DEFAULT_WINDOWS,
    FALLBACK_WINDOW,
    context_window_for,
    parse_context_error,
)


@pytest.mark.parametrize("model, window", [
    ("gpt-4o", 128_000),
    ("gpt-4o-mini", 128_000),
    ("gpt-4o-2024-08-06", 128_000),
    ("gpt-4o-mini-2024-07-18", 128_000),
    ("gpt-4.1", 1_047_576),
    ("gpt-4.1-mini-2025-04-14", 1_047_576),
    ("gpt-4.1-nano", 1_047_576),
    ("gpt-5", 400_000),
    ("gpt-5-mini", 400_000),
    ("gpt-5-nano-2025-08-07", 400_000),
    ("o1", 200_000),
    ("o1-2024-12-17", 200_000),
    ("o1-mini", 128_000),
    ("o3", 200_000),
    ("o3-mini", 200_000),
    ("o4-mini-2025-04-16", 200_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-4-turbo-2024-04-09", 128_000),
    ("gpt-4", 8_192),
    ("gpt-4-0613", 8_192),
    ("gpt-4-32k", 32_768),
    ("gpt-3.5-turbo", 16_385),
    ("gpt-3.5-turbo-0125", 16_385),
    ("openai/gpt-4o", 128_000),  # OpenRouter-style provider prefix
    ("OpenAI/GPT-4.1", 1_047_576),
    ("ft:gpt-4o-mini-2024-07-18:acme::abc123", 128_000),
])
def test_table_lookup(model: str, window: int) -> None:
    assert context_window_for(model) == window


@pytest.mark.parametrize("model", ["llama3.1:8b", "qwen2.5-coder", "gpt-4ox", "o10", "", "mistral"])
def test_unknown_models_fall_back(model: str) -> None:
    assert context_window_for(model) == FALLBACK_WINDOW == 8192


def test_table_has_no_non_positive_figures() -> None:
    assert all(isinstance(v, int) and v > 0 for v in DEFAULT_WINDOWS.values())


def test_precedence() -> None:
    overrides = {"gpt-4o": 64_000, "llama3.1": 131_072}
    assert context_window_for("gpt-4o", overrides=overrides, learned=100_000,
                              conversation=32_000) == 32_000
    assert context_window_for("gpt-4o", overrides=overrides, learned=100_000) == 64_000
    assert context_window_for("gpt-4o", learned=100_000) == 100_000
    assert context_window_for("gpt-4o", overrides={"other": 5}, learned=None) == 128_000
    # overrides match by prefix like the table: one entry covers every tag
    assert context_window_for("llama3.1:8b", overrides=overrides) == 131_072
    assert context_window_for("llama3.1:70b-instruct-q4", overrides=overrides) == 131_072
    # nonsense figures are ignored
    assert context_window_for("gpt-4o", overrides={"gpt-4o": 0}, learned=-1,
                              conversation=0) == 128_000


@pytest.mark.parametrize("message, expected", [
    ("This model's maximum context length is 128000 tokens. However, your messages resulted "
     "in 130000 tokens. Please reduce the length of the messages.", (128_000, 130_000)),
    ("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
     "(4000 in the messages, 1000 in the completion). Please reduce the length of the messages "
     "or completion.", (4096, 4000)),
    ("the request exceeds the available context size, try increasing it", (None, None)),
    ("request (5000 tokens) exceeds the available context size (4096 tokens), try increasing "
     "it", (4096, 5000)),
    ('Error code: 400 - {"error": {"code": 400, "message": "the request exceeds the available '
     'context size, try increasing it", "type": "exceed_context_size_error", '
     '"n_prompt_tokens": 5000, "n_ctx": 4096}}', (4096, 5000)),
    ("This model's maximum context length is 32768 tokens. However, your request has 40000 "
     "input tokens. Please reduce the length of the input messages.", (32_768, 40_000)),
    ("Input tokens exceed the configured limit of 272,000 tokens. Your messages resulted in "
     "300,123 tokens. Please reduce the length of the messages.", (272_000, 300_123)),
    ("Rate limit reached for gpt-4o", (None, None)),
])
def test_parse_context_error(message: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_context_error(message) == expected

