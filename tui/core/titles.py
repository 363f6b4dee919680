"""Conversation titles derived from text, so a new chat is named the moment it starts."""

from __future__ import annotations

import re

MAX_TITLE = 60

_WS = re.compile(r"\s+")
_MARKDOWN_NOISE = re.compile(r"^[#>*\-\s`]+")


def title_from_text(text: str, limit: int = MAX_TITLE) -> str:
    """The first meaningful line of ``text``, whitespace folded, cut at a word boundary."""
    for line in text.splitlines():
        line = _MARKDOWN_NOISE.sub("", line).strip()
        if line and not line.startswith("```"):
            break
    else:
        line = text.strip()
    line = _WS.sub(" ", "".join(ch for ch in line if ch.isprintable()))
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"
