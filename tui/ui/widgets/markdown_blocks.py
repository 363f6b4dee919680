"""Markdown → light-weight Textual visuals, one per top-level block.

Why not Textual's ``Markdown`` widget tree: a reply of a few thousand tokens
becomes hundreds of nested widgets, and a conversation of a thousand messages
becomes hundreds of thousands.  Here every top-level block (paragraph, list,
table, code fence, …) is a single :class:`~textual.visual.Visual`, so it can be
shown by one ``Static`` and laid out by Textual exactly like plain text.

Inline styles are Textual style strings with theme variables (see
:data:`STYLES`), resolved when drawn, so colours follow the app theme.
Nothing here needs a running app: blocks are plain data until mounted.

This module walks the token stream and builds lists, quotes and headings; the
pieces with a life of their own live next to it: ``markdown_styles`` (the style
table), ``markdown_inline`` (inline markup), ``markdown_layout`` (stacks,
prefixes, rules), ``markdown_code`` (highlighted code) and ``markdown_table``.
Their public names are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from textual.content import Content
from textual.visual import Visual

from tui.core.code_blocks import markdown_parser
from tui.core.literal import printable
from tui.ui.widgets.markdown_code import (
    CodeVisual,
    build_code_block,
    highlight_code,
    warm_lexers,
)
from tui.ui.widgets.markdown_inline import inline_content
from tui.ui.widgets.markdown_layout import Prefixed, Rule, Stack
from tui.ui.widgets.markdown_styles import STYLES
from tui.ui.widgets.markdown_table import TableVisual, build_table

if TYPE_CHECKING:  # markdown-it loads when a reply is first drawn (see tui.ui.app)
    from markdown_it.token import Token

__all__ = [
    "Block",
    "CodeVisual",
    "Prefixed",
    "Rule",
    "STYLES",
    "Stack",
    "TableVisual",
    "build_block",
    "build_code_block",
    "build_top_level_blocks",
    "highlight_code",
    "inline_content",
    "sanitize",
    "split_top_level",
    "warm_rendering",
]

BULLETS = ("•", "◦", "▪", "‣")

# -- literal text ---------------------------------------------------------------

def sanitize(text: str) -> str:
    """Replace control characters with visible symbols (ESC → ␛).

    Model output is data: an escape sequence must never reach the terminal, and
    Textual's ``Content`` (used everywhere here) never parses markup, so this
    plus ``Content`` is what keeps ``[red]`` and ``\\x1b[31m`` literal.
    Newlines and tabs are kept; callers normalise ``\\r`` first.
    """
    return printable(text)


def warm_rendering() -> None:
    """Load what drawing a reply needs, ahead of the first one (from a thread, after the
    first frame): markdown-it and its parser (~35 ms of imports that start-up no longer
    pays) and the commonest code lexers (:func:`warm_lexers`)."""
    markdown_parser()
    warm_lexers()


@dataclass(eq=False)
class Block:
    """One top-level Markdown block, ready to show.

    ``kind`` becomes a CSS class of the widget showing it (``-paragraph``…).
    """

    kind: str
    visual: Visual


def _close_index(tokens: Sequence[Token], open_index: int) -> int:
    """Index of the token closing ``tokens[open_index]``."""
    opener = tokens[open_index]
    closer = opener.type[: -len("_open")] + "_close"
    level = opener.level
    for index in range(open_index + 1, len(tokens)):
        token = tokens[index]
        if token.level == level and token.type == closer:
            return index
    return len(tokens) - 1


def split_top_level(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """``(start, stop)`` token index ranges of each top-level block."""
    groups: list[tuple[int, int]] = []
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        if token.nesting == 1:
            stop = _close_index(tokens, index) + 1
        else:
            stop = index + 1
        groups.append((index, stop))
        index = stop
    return groups


def _build_list(tokens: Sequence[Token], start: int, stop: int, depth: int) -> Visual:
    opener = tokens[start]
    ordered = opener.type == "ordered_list_open"
    tight = False
    items: list[tuple[int, int]] = []
    index = start + 1
    while index < stop - 1:
        token = tokens[index]
        if token.type == "list_item_open":
            close = _close_index(tokens, index)
            items.append((index + 1, close))
            index = close + 1
        else:
            index += 1
    # markdown-it marks paragraphs of tight lists hidden.
    for token in tokens[start:stop]:
        if token.type == "paragraph_open" and token.level == opener.level + 2:
            tight = token.hidden
            break
    if ordered:
        first_number = int(str(opener.attrs.get("start", 1)))
        labels = [f"{first_number + n}." for n in range(len(items))]
        width = max((len(label) for label in labels), default=2) + 1
        markers = [label.rjust(width - 1) + " " for label in labels]
    else:
        bullet = BULLETS[depth % len(BULLETS)]
        width = 2
        markers = [f"{bullet} "] * len(items)
    children: list[Visual] = []
    for (item_start, item_stop), marker in zip(items, markers):
        body = _build(tokens, item_start, item_stop, depth + 1, 0 if tight else 1)
        children.append(
            Prefixed(
                Stack(body, 0 if tight else 1),
                Content.styled(marker, STYLES["bullet"]),
                Content(" " * width),
                copied=True,
            )
        )
    return Stack(children, 0 if tight else 1)


def _build(
    tokens: Sequence[Token], start: int, stop: int, depth: int = 0, gap: int = 1
) -> list[Visual]:
    """Visuals for the block tokens in ``tokens[start:stop]``."""
    visuals: list[Visual] = []
    index = start
    while index < stop:
        token = tokens[index]
        kind = token.type
        if kind == "paragraph_open":
            visuals.append(inline_content(tokens[index + 1] if index + 1 < stop else None))
            index += 3
        elif kind == "heading_open":
            content = inline_content(tokens[index + 1] if index + 1 < stop else None)
            visuals.append(content.stylize_before(STYLES[token.tag]))
            index += 3
        elif kind in ("fence", "code_block"):
            visuals.append(build_code_block(token.content, token.info))
            index += 1
        elif kind == "hr":
            visuals.append(Rule())
            index += 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            close = _close_index(tokens, index)
            visuals.append(_build_list(tokens, index, close + 1, depth))
            index = close + 1
        elif kind == "blockquote_open":
            close = _close_index(tokens, index)
            bar = Content.styled("▌ ", STYLES["quote-bar"])
            visuals.append(Prefixed(Stack(_build(tokens, index + 1, close, depth)), bar, bar))
            index = close + 1
        elif kind == "table_open":
            close = _close_index(tokens, index)
            visuals.append(build_table(tokens, index, close + 1))
            index = close + 1
        elif kind in ("html_block", "inline"):
            visuals.append(Content(token.content.rstrip("\n")))
            index += 1
        else:
            index += 1
    return visuals


_KINDS = {
    "paragraph_open": "paragraph",
    "heading_open": "heading",
    "fence": "code",
    "code_block": "code",
    "hr": "rule",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "blockquote_open": "quote",
    "table_open": "table",
}


def build_block(tokens: Sequence[Token], start: int, stop: int) -> Block:
    """The Block for one top-level token range from :func:`split_top_level`."""
    visuals = _build(tokens, start, stop)
    visual: Visual = visuals[0] if len(visuals) == 1 else Stack(visuals)
    return Block(_KINDS.get(tokens[start].type, "other"), visual)


def build_top_level_blocks(tokens: Sequence[Token]) -> list[Block]:
    """Blocks for a whole parsed document."""
    return [build_block(tokens, start, stop) for start, stop in split_top_level(tokens)]
