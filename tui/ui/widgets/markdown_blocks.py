"""Markdown → light-weight Textual visuals, one per top-level block.

Why not Textual's ``Markdown`` widget tree: a reply of a few thousand tokens
becomes hundreds of nested widgets, and a conversation of a thousand messages
becomes hundreds of thousands.  Here every top-level block (paragraph, list,
table, code fence, …) is a single :class:`~textual.visual.Visual`, so it can be
shown by one ``Static`` and laid out by Textual exactly like plain text.

Inline styles are Textual style strings with theme variables (see
:data:`STYLES`), resolved when drawn, so colours follow the app theme.
Nothing here needs a running app: blocks are plain data until mounted.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.cells import cell_len
from rich.segment import Segment
from textual.content import Content, Span
from textual.css.styles import RulesMap
from textual.highlight import HighlightTheme
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from tui.core.literal import printable

__all__ = [
    "Block",
    "CodeVisual",
        "STYLES",
    "Stack",
    "build_code_block",
    "build_top_level_blocks",
    "highlight_code",
    "inline_content",
    "make_parser",
    "sanitize",
    "split_top_level",
]

STYLES: dict[str, str] = {
    "h1": "bold underline $text-primary",
    "h2": "bold $text-primary",
    "h3": "bold $text-secondary",
    "h4": "bold italic $text-secondary",
    "h5": "bold italic",
    "h6": "italic",
    "em": "italic",
    "strong": "bold",
    "strike": "strike",
    "code-inline": "$text-warning on $warning-muted",
    "link": "underline $text-accent",
    "code": "on $foreground 6%",
    "code-label": "italic $text-muted",
    "bullet": "$text-accent",
    "quote-bar": "$primary",
    "hr": "$primary-muted",
    "table-border": "$primary-muted",
    "table-header": "bold $text-primary",
}
"""Inline styles: Textual style strings with theme variables.

Resolved when a line is drawn, so they follow the app theme.  These are not
CSS component classes on purpose: each component class costs every widget
instance a styled DOM node, which made mounting a stored message ~2x slower.
Change entries before building blocks to restyle.
"""

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


@lru_cache(maxsize=1)
def make_parser() -> MarkdownIt:
    """CommonMark + tables + strikethrough; raw HTML is shown as text.

    Shared: building a MarkdownIt costs about as much as parsing a short
    message, and ``parse()`` keeps no state between calls.
    """
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


# -- inline ---------------------------------------------------------------------

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


# -- code -------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _lexer(language: str) -> Lexer | None:
    """Lexer by fence info word; never guess (guessing runs every lexer)."""
    if not language:
        return None
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=True, tabsize=4)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str) -> Content:
    """Pygments-highlight ``code`` with Textual's theme-variable styles."""
    lexer = _lexer(language.strip().lower())
    if lexer is None:
        return Content(code)
    styles = HighlightTheme.STYLES
    spans: list[Span] = []
    limit = len(code)
    start = 0
    for token_type, value in lexer.get_tokens(code):
        end = start + len(value)
        kind = token_type
        while kind is not None:
            style = styles.get(kind)
            if style:
                if start < limit:
                    spans.append(Span(start, min(end, limit), style))
                break
            kind = kind.parent
        start = end
    return Content(code, spans=spans)


# -- visuals ------------------------------------------------------------------------


def _content_strip(content: Content, style: Style, options: RenderOptions) -> Strip:
    """One line of Content as a Strip, resolving component/variable styles."""
    segments = [
        Segment(text, (style + text_style).rich_style)
        for text, text_style in content.render(style, end="", parse_style=options.get_style)
    ]
    return Strip(segments, content.cell_length)


def _nested(options: RenderOptions) -> RenderOptions:
    """Options for a child visual: selection offsets are only valid at top level."""
    if options.selection is None:
        return options
    return dataclasses.replace(options, selection=None, selection_style=None)


class Stack(Visual):
    """Visuals one above another, with ``gap`` blank lines between them."""

    def __init__(self, children: Sequence[Visual], gap: int = 1) -> None:
        self.children = list(children)
        self.gap = gap

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        strips: list[Strip] = []
        child_options = _nested(options)
        for index, child in enumerate(self.children):
            if index and self.gap:
                strips.extend(Strip([], 0) for _ in range(self.gap))
            strips.extend(child.render_strips(width, None, style, child_options))
        return strips if height is None else strips[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        gaps = max(0, len(self.children) - 1) * self.gap
        return gaps + sum(child.get_height(rules, width) for child in self.children)


class Prefixed(Visual):
    """A child visual with a hanging prefix (list bullet, quote bar)."""

    def __init__(self, child: Visual, first: Content, rest: Content) -> None:
        self.child = child
        self.first = first
        self.rest = rest
        self.indent = max(first.cell_length, rest.cell_length)

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        inner = max(1, width - self.indent)
        lines = self.child.render_strips(inner, None, style, _nested(options)) or [Strip([], 0)]
        first = _content_strip(self.first, style, options)
        rest = _content_strip(self.rest, style, options)
        strips = [Strip.join([first if i == 0 else rest, line]) for i, line in enumerate(lines)]
        return strips if height is None else strips[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return max(1, self.child.get_height(rules, max(1, width - self.indent)))


class Rule(Visual):
    """A horizontal rule across the full width."""

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return [_content_strip(Content.styled("─" * width, STYLES["hr"]), style, options)]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1


class CodeVisual(Visual):
    """Highlighted code on a full-width panel; long lines fold, never wrap words.

    ``top``/``bottom`` let a code block that is still streaming be shown as
    several pieces (each highlighted once) that look like one panel.
    """

    PAD = 1

    def __init__(
        self, code: str, language: str = "", *, top: bool = True, bottom: bool = True
    ) -> None:
        self.code = code.expandtabs(4)
        self.label = language
        self.top = top
        self.bottom = bottom
        self._lines: list[Content] | None = None
        self._fold_cache: tuple[int, list[Content]] | None = None
        self._plain_lines = self.code.split("\n")

    @property
    def lines(self) -> list[Content]:
        """Highlighted lines, computed on first draw: code scrolled out of
        sight in a long conversation is never lexed."""
        if self._lines is None:
            self._lines = highlight_code(self.code, self.label).split("\n", allow_blank=True)
        return self._lines

    def _folded(self, width: int) -> list[Content]:
        inner = max(2, width - 2 * self.PAD)
        if self._fold_cache is None or self._fold_cache[0] != inner:
            folded: list[Content] = []
            for line in self.lines:
                folded.extend(line.fold(inner) if line.cell_length > inner else [line])
            self._fold_cache = (inner, folded)
        return self._fold_cache[1]

    def _height(self, width: int) -> int:
        """Folded height without highlighting (layout needs it for every block)."""
        if self._fold_cache is not None and self._fold_cache[0] == max(2, width - 2 * self.PAD):
            return len(self._fold_cache[1])
        inner = max(2, width - 2 * self.PAD)
        total = 0
        for line in self._plain_lines:
            if len(line) * 2 <= inner or cell_len(line) <= inner:
                total += 1
            else:
                total += len(Content(line).fold(inner))
        return total

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        panel = style + options.get_style(STYLES["code"])
        pad = Strip([Segment(" " * self.PAD, panel.rich_style)], self.PAD)
        strips: list[Strip] = []
        if self.top:
            label = Content.styled(self.label[: max(0, width - 2)], STYLES["code-label"])
            strips.append(Strip.join([pad, _content_strip(label, panel, options)]))
        for line in self._folded(width):
            strips.append(Strip.join([pad, _content_strip(line, panel, options)]))
        if self.bottom:
            strips.append(Strip([], 0))
        padded = [strip.extend_cell_length(width, panel.rich_style) for strip in strips]
        return padded if height is None else padded[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._height(width) + self.top + self.bottom


class TableVisual(Visual):
    """A table with wrapped cells; columns shrink widest-first to fit."""

    SEPARATOR = " │ "

    def __init__(
        self, header: list[Content], rows: list[list[Content]], aligns: list[str]
    ) -> None:
        columns = max([len(header), *(len(row) for row in rows)] or [0])
        self.header = header + [Content("")] * (columns - len(header))
        self.rows = [row + [Content("")] * (columns - len(row)) for row in rows]
        self.aligns = aligns + ["left"] * (columns - len(aligns))
        self.columns = columns
        self._cache: tuple[int, list[Content]] | None = None

    def _widths(self, width: int) -> list[int]:
        natural = [
            max([1, *(row[c].cell_length for row in [self.header, *self.rows])])
            for c in range(self.columns)
        ]
        room = max(self.columns, width - len(self.SEPARATOR) * (self.columns - 1))
        excess = sum(natural) - room
        while excess > 0:
            widest = max(range(self.columns), key=natural.__getitem__)
            if natural[widest] <= 1:
                break
            target = max(1, sorted(natural)[-2] if self.columns > 1 else room)
            cut = min(excess, natural[widest] - target) or 1
            natural[widest] -= cut
            excess -= cut
        return natural

    def _row_lines(self, cells: list[Content], widths: list[int], header: bool) -> list[Content]:
        wrapped = [cell.wrap(w) or [Content("")] for cell, w in zip(cells, widths)]
        separator = Content.styled(self.SEPARATOR, STYLES["table-border"])
        lines: list[Content] = []
        for y in range(max(len(w) for w in wrapped)):
            pieces: list[Content] = []
            for column, (cell_lines, w) in enumerate(zip(wrapped, widths)):
                piece = cell_lines[y] if y < len(cell_lines) else Content("")
                piece = piece.rstrip()
                space = max(0, w - piece.cell_length)
                if self.aligns[column] == "center":
                    piece = piece.pad(space // 2, space - space // 2)
                elif self.aligns[column] == "right":
                    piece = piece.pad_left(space)
                else:
                    piece = piece.pad_right(space)
                if header:
                    piece = piece.stylize_before(STYLES["table-header"])
                pieces.append(piece)
            lines.append(separator.join(pieces))
        return lines

    def _lines(self, width: int) -> list[Content]:
        if self._cache is None or self._cache[0] != width:
            if not self.columns:
                self._cache = (width, [])
                return []
            widths = self._widths(width)
            lines = self._row_lines(self.header, widths, True)
            rule = Content.styled("─┼─", STYLES["table-border"]).join(
                Content.styled("─" * w, STYLES["table-border"]) for w in widths
            )
            lines.append(rule)
            for row in self.rows:
                lines.extend(self._row_lines(row, widths, False))
            self._cache = (width, lines)
        return self._cache[1]

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        strips = [_content_strip(line, style, options).crop(0, width) for line in self._lines(width)]
        return strips if height is None else strips[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self._lines(width))


# -- token stream → visuals -------------------------------------------------------------


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


def build_code_block(code: str, info: str) -> CodeVisual:
    """A whole code block, highlighted in one pass."""
    if code.endswith("\n"):
        code = code[:-1]
    language = info.split()[0] if info.strip() else ""
    return CodeVisual(code, language)


def _alignment(token: Token) -> str:
    style = str(token.attrs.get("style", ""))
    for name in ("center", "right"):
        if name in style:
            return name
    return "left"


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
            )
        )
    return Stack(children, 0 if tight else 1)


def _build_table(tokens: Sequence[Token], start: int, stop: int) -> Visual:
    header: list[Content] = []
    rows: list[list[Content]] = []
    aligns: list[str] = []
    in_head = False
    for index in range(start, stop):
        token = tokens[index]
        kind = token.type
        if kind == "thead_open":
            in_head = True
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open" and not in_head:
            rows.append([])
        elif kind in ("th_open", "td_open"):
            cell = inline_content(tokens[index + 1] if index + 1 < stop else None)
            if in_head:
                header.append(cell)
                aligns.append(_alignment(token))
            elif rows:
                rows[-1].append(cell)
    return TableVisual(header, rows, aligns)


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
            visuals.append(_build_table(tokens, index, close + 1))
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
