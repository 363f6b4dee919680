"""The loaded encoding keeps only the Rust tokenizer: tiktoken's Python copy of the token
table (~28 MB for o200k_base) is freed, and counts stay exactly tiktoken's."""

from __future__ import annotations

import pytest
import tiktoken
import tiktoken_ext.openai_public as openai_public

from tests.test_tokens import SAMPLES
from tui.core.tokens import TokenCounter, drop_python_ranks


def test_tiktoken_still_keeps_the_python_ranks_where_we_free_them() -> None:
    """The private attribute drop_python_ranks clears: if tiktoken moves it, say so here."""
    encoding = tiktoken.Encoding(**openai_public.cl100k_base())
    assert isinstance(encoding._mergeable_ranks, dict) and len(encoding._mergeable_ranks) > 50_000
    before = encoding.encode_ordinary(SAMPLES["mixed"])
    drop_python_ranks(encoding)
    assert encoding._mergeable_ranks == {}
    assert encoding.encode_ordinary(SAMPLES["mixed"]) == before


@pytest.mark.parametrize("model, constructor", [("gpt-4o", openai_public.o200k_base),
                                                ("gpt-4", openai_public.cl100k_base)])
def test_counts_without_the_python_ranks_equal_a_full_encoding(model, constructor) -> None:
    counter = TokenCounter(model)
    assert counter.load_blocking()
    assert counter._encoding._mergeable_ranks == {}
    full = tiktoken.Encoding(**constructor())  # its own copy, ranks kept
    for text in SAMPLES.values():
        assert counter.count_text(text) == len(full.encode_ordinary(text))
