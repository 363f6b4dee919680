"""Headings inside a message, pushed below the export's own.

A Markdown export puts each message under a role heading (``## User``, ``## Assistant``)
below the title (``#``). A reply's own ``#`` and ``##`` headings (ATX, also inside a quote
or a list item; underlined at the top level) would read as more of those, so they are moved
two levels down (``#`` becomes
``###``, every other level with it, at most ``######``), which keeps the reply's outline
under its role. Only the heading lines change:
code blocks, quotes, lists and every other line stay byte for byte. markdown-it-py finds the
headings (a ``##`` in a code fence is not one), and is imported only for text that may
have one.
"""

from __future__ import annotations

import re

# A line that could make a level 1-2 heading: ATX (#, ##) or a setext underline (===, ---).
_MAYBE = re.compile(r"^ {0,3}(#{1,2}(\s|$)|=+\s*$|-+\s*$)", re.MULTILINE)
# An ATX heading's marks, after any container markers (quotes, list items) on its line.
_ATX = re.compile(r"^((?:[ \t]*(?:>|[-*+]|\d{1,9}[.)])(?=[ \t]|$))*[ \t]*)(#{1,6})(?=[ \t]|$)")
DEMOTE = 2


def nest_headings(text: str) -> str:
    """``text`` with its top-level headings two levels down (at most ``######``)."""
    if not _MAYBE.search(text):
        return text
    from markdown_it import MarkdownIt

    lines = text.split("\n")
    tokens = MarkdownIt("commonmark").parse(text)
    for token in tokens:
        if token.type != "heading_open" or token.map is None:
            continue
        start, end = token.map
        marks = "#" * min(int(token.tag[1]) + DEMOTE, 6)
        if token.markup in ("=", "-"):  # setext: the title lines, then the underline
            if token.level != 0:
                continue  # underlined inside a quote or a list: left as it is
            title = " ".join(line.strip() for line in lines[start:end - 1])
            lines[start] = f"{marks} {title}"
            for index in range(start + 1, end):
                lines[index] = "\0"
        else:
            lines[start] = _ATX.sub(lambda m: m.group(1) + marks, lines[start], count=1)
    return "\n".join(line for line in lines if line != "\0")
