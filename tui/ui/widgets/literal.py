"""Show untrusted text (titles, user messages, snippets, errors, model names) exactly as written.

Nothing here is parsed as Rich/Textual markup, and control characters (ANSI escapes,
backspaces, carriage returns) are swapped for their visible Unicode "control pictures", so a
reply containing ``\\x1b[31m`` shows the escape instead of recolouring the terminal.
"""

from __future__ import annotations

import re

from textual.content import Content

from tui.core.literal import printable
from tui.core.models import HIGHLIGHT_END, HIGHLIGHT_START

_WHITESPACE = re.compile(r"\s+")
# Characters whose width terminals disagree on when they join a cluster: a zero-width joiner
# and the emoji after it (👩‍👧 is 2 cells in one terminal, 4 in another), variation selectors
# (❤️ is 1 or 2), skin-tone modifiers and the keycap mark.
_JOINED = re.compile("\u200d.?|[\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff]", re.DOTALL)


def visible(text: str) -> str:
    """``text`` with control characters replaced by visible stand-ins."""
    return printable(text)


def same_width_everywhere(text: str) -> str:
    """``text`` without the joiners and modifiers that make an emoji's width depend on the
    terminal, so every terminal puts the next cell (a border) where the layout measured it:
    the width of each character then adds up to the width of the whole."""
    return _JOINED.sub("", text)


def one_line(text: str) -> str:
    """``visible`` text folded onto one line (titles, list rows, model names)."""
    return same_width_everywhere(visible(_WHITESPACE.sub(" ", text)))


def literal(text: str, style: str = "") -> Content:
    """Content that renders ``text`` verbatim: brackets stay brackets."""
    content = Content(visible(text), strip_control_codes=False)
    return content.stylize(style) if style else content


def highlighted_snippet(snippet: str, match_style: str = "reverse") -> Content:
    """Render a store search snippet, styling the spans between the highlight markers."""
    parts: list[tuple[str, str] | str] = []
    rest = snippet
    while rest:
        start = rest.find(HIGHLIGHT_START)
        if start < 0:
            parts.append(one_line(rest))
            break
        parts.append(one_line(rest[:start]))
        rest = rest[start + 1:]
        end = rest.find(HIGHLIGHT_END)
        match, rest = (rest, "") if end < 0 else (rest[:end], rest[end + 1:])
        parts.append((one_line(match), match_style))
    return Content.assemble(*[p for p in parts if p])
