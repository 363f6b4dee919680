"""Titles taken from a chat's first message (tui/core/titles.py)."""

from __future__ import annotations

import pytest

from tui.core.titles import title_from_text


@pytest.mark.parametrize(("text", "title"), [
    ("Hello there, tell me about **markdown** and `code`",
     "Hello there, tell me about markdown and code"),
    ("Why does `parse()` fail on __init__?", "Why does parse() fail on init?"),
    ("See [the docs](https://example.com/a_b) and *this* part", "See the docs and this part"),
    ("~~old~~ new plan: ``a `b` c``", "old new plan: a `b` c"),
    ("# Heading with **bold**\n\nbody", "Heading with bold"),
    ("```python\nprint(1)\n```\nExplain this", "Explain this"),
    ("```python\nprint(\"**hi**\")\n```", "print(\"**hi**\")"),
])
def test_inline_markdown_is_left_out(text: str, title: str) -> None:
    assert title_from_text(text) == title


@pytest.mark.parametrize("text", [
    "2 * 3 * 4 = 24",
    "rename snake_case_name to camelCase",
    "a*b and c*d",
    "[bold]x",
    "[red]not red[/]",
    "price: $5 * qty",
    "file_name_v2.py",
])
def test_text_that_only_looks_like_markup_stays(text: str) -> None:
    assert title_from_text(text) == text


def test_long_titles_are_still_cut_at_a_word() -> None:
    title = title_from_text("**" + "word " * 30 + "**")
    assert title.endswith("…") and len(title) <= 60 and "*" not in title


@pytest.mark.parametrize(("text", "title"), [
    # an attached file's block (tui.core.attachments.fenced) before the question
    ("notes.txt:\n\n```\nLine one.\n```\n\nSummarize the attached notes.",
     "Summarize the attached notes."),
    ("Review\n\nsrc/main.py:\n\n```python\nprint(1)\n```", "Review"),
    ("src/main.py:\n\n```python\nprint(1)\n```", "src/main.py"),
    # a colon not over a block is prose like any other
    ("Plan: rewrite the parser\n\nthen test it", "Plan: rewrite the parser"),
    ("Steps:\n- one\n- two", "Steps:"),
])
def test_a_files_name_over_its_block_gives_way_to_the_question(text: str, title: str) -> None:
    assert title_from_text(text) == title
