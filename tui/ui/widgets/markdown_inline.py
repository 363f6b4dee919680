"""Inline Markdown (emphasis, code spans, links…) → literal, styled Content.

Links become clickable only for http(s) and mailto targets: model output must
not be able to run arbitrary app actions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.content import Content, Span
from textual.style import Style

from tui.ui.widgets.markdown_styles import STYLES

if TYPE_CHECKING:  # markdown-it loads when a reply is first drawn (see tui.ui.app)
    from markdown_it.token import Token

__all__ = ["inline_content"]

_SAFE_LINK = re.compile(r"^(https?|mailto):", re.IGNORECASE)


def inline_content(token: Token | None) -> Content:
    """Turn an ``inline`` token into styled, literal Content."""
    if token is None or not token.children:
        return Content("")
    text: list[str] = []
    spans: list[Span] = []
    stack: list[tuple[int, str | Style]] = []
    position = 0

    def add(piece: str) -> None:
        nonlocal position
        text.append(piece)
        position += len(piece)

    for child in token.children:
        kind = child.type
        if kind == "text" or kind == "html_inline":
            add(child.content)
        elif kind == "softbreak":
            add(" ")
        elif kind == "hardbreak":
            add("\n")
        elif kind == "code_inline":
            start = position
            add(child.content)
            spans.append(Span(start, position, STYLES["code-inline"]))
        elif kind == "em_open":
            stack.append((position, STYLES["em"]))
        elif kind == "strong_open":
            stack.append((position, STYLES["strong"]))
        elif kind == "s_open":
            stack.append((position, STYLES["strike"]))
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
            stack.append((position, STYLES["link"]))
            if _SAFE_LINK.match(href):
                stack.append((position, Style.from_meta({"@click": f"link({href!r})"})))
            else:
                stack.append((position, ""))
        elif kind == "link_close":
            for _ in range(2):
                if stack:
                    start, style = stack.pop()
                    if style:
                        spans.append(Span(start, position, style))
        elif kind == "image":
            start = position
            add(f"[image: {child.content or child.attrs.get('src', '')}]")
            spans.append(Span(start, position, STYLES["link"]))
        elif kind.endswith("_close"):
            if stack:
                start, style = stack.pop()
                spans.append(Span(start, position, style))
        else:
            add(child.content)
    return Content("".join(text), spans=spans)
