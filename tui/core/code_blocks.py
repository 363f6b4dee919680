"""The code blocks of a reply, numbered, and a reply as plain text.

The chat pane labels each code block with its number (``#1 python``); the number comes
from the same walk as here, every fenced or indented code block in document order, nested
ones (in lists, quotes) included, so "copy block 2" copies what the label ``#2`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # markdown-it loads when a reply is first read (see tui.ui.app)
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@dataclass(frozen=True)
class CodeBlock:
    number: int  # from 1, in document order
    language: str
    code: str

    @property
    def title(self) -> str:
        """A one-line name for pickers: ``#2 python: first line``."""
        first = next((line.strip() for line in self.code.splitlines() if line.strip()), "")
        label = f"#{self.number}" + (f" {self.language}" if self.language else "")
        return f"{label}: {first[:60]}" if first else label


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """CommonMark + tables + strikethrough; raw HTML is text. The one parser both the chat
    pane's drawing and this module's walk use, so they find the same code blocks. Shared:
    building one costs about as much as parsing a short message, and ``parse()`` keeps no
    state between calls."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _code(token: Token) -> str:
    return token.content[:-1] if token.content.endswith("\n") else token.content


def _language(token: Token) -> str:
    return token.info.split()[0] if token.info.strip() else ""


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every code block of ``markdown``, numbered from 1."""
    found = [token for token in markdown_parser().parse(markdown)
             if token.type in ("fence", "code_block")]
    return [CodeBlock(number, _language(token), _code(token))
            for number, token in enumerate(found, start=1)]


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def plain_text(markdown: str) -> str:
    """``markdown`` without its markup: emphasis, links and fences go, text and code stay;
    list items keep a bullet or number, table cells are separated by tabs."""
    blocks: list[str] = []
    lines: list[str] = []  # the table or list being built
    prefixes: list[str] = []  # one per open list: "-" or the next number
    row: list[str] = []
    in_table = False
    item_marker = ""
    for token in markdown_parser().parse(markdown):
        kind = token.type
        if kind == "bullet_list_open":
            prefixes.append("-")
        elif kind == "ordered_list_open":
            prefixes.append(str(token.attrs.get("start", 1)))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            prefixes.pop()
            if not prefixes:
                blocks.append("\n".join(lines))
                lines = []
        elif kind == "list_item_open":
            marker = prefixes[-1]
            if marker != "-":
                prefixes[-1] = str(int(marker) + 1)
                marker += "."
            item_marker = "  " * (len(prefixes) - 1) + marker + " "
        elif kind == "table_open":
            in_table = True
        elif kind == "table_close":
            in_table = False
            blocks.append("\n".join(lines))
            lines = []
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            lines.append("\t".join(row))
        elif kind == "inline":
            text = _inline_text(token)
            if in_table:
                row.append(text)
            elif prefixes:
                lines.append((item_marker or "  " * len(prefixes)) + text)
                item_marker = ""
            else:
                blocks.append(text)
        elif kind in ("fence", "code_block"):
            (lines if prefixes else blocks).append(_code(token))
        elif kind == "hr":
            blocks.append("")
    return "\n\n".join(blocks).strip("\n")
