"""Fenced code: Pygments highlighting with theme styles, shown on a panel.

Highlighting is lazy (only when a block is first drawn) and never guesses the
language, because guessing runs every lexer Pygments has.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from textual.content import Content, Span
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from tui.ui.widgets.markdown_layout import Prefixed, Stack, content_strip
from tui.ui.widgets.markdown_selection import SKIPPED, Row, Run
from tui.ui.widgets.markdown_styles import STYLES

if TYPE_CHECKING:  # Pygments loads after the first frame (warm_lexers) or when first used
    from pygments.lexer import Lexer

__all__ = ["CodeVisual", "build_code_block", "first_code_number", "highlight_code",
           "number_as", "number_code_blocks", "warm_lexers"]

WARM_LANGUAGES = ("python", "bash")
"""Fence languages whose lexers load before the first reply (see :func:`warm_lexers`)."""


@lru_cache(maxsize=128)
def _lexer(language: str) -> Lexer | None:
    """Lexer by fence info word; never guess (guessing runs every lexer)."""
    if not language:
        return None
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=True, tabsize=4)
    except ClassNotFound:
        return None


def warm_lexers(languages: tuple[str, ...] = WARM_LANGUAGES) -> None:
    """Load the lexers of the commonest fence languages ahead of need (from a thread).

    A lexer compiles its rules the first time one is made: Python's takes ~28 ms, which
    landed on the event loop in the middle of a session's first reply with Python code
    (a pty, first 1k-token reply at 2,000 tok/s: 40 ms frames, the last words ~70 ms
    late). Python and Bash cost ~1.7 MB of memory; other languages load when used."""
    for language in languages:
        _lexer(language)


def highlight_code(code: str, language: str) -> Content:
    """Pygments-highlight ``code`` with Textual's theme-variable styles."""
    lexer = _lexer(language.strip().lower())
    if lexer is None:
        return Content(code)
    from textual.highlight import HighlightTheme

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
        # The block's number in its reply (tui.core.code_blocks counts the same way): shown
        # in the label, so "copy block 2" is the one marked #2.
        self.number: int | None = None
        self.top = top
        self.bottom = bottom
        self._lines: list[Content] | None = None
        self._fold_cache: tuple[int, list[Content], list[str]] | None = None
        self._plain_lines = self.code.split("\n")

    @property
    def lines(self) -> list[Content]:
        """Highlighted lines, computed on first draw: code scrolled out of
        sight in a long conversation is never lexed."""
        if self._lines is None:
            self._lines = highlight_code(self.code, self.label).split("\n", allow_blank=True)
        return self._lines

    def _fold(self, width: int) -> tuple[list[Content], list[str]]:
        """Rows at ``width`` and what follows each in the copied code: nothing between the
        pieces of a folded line, a newline after a line's last piece."""
        inner = max(2, width - 2 * self.PAD)
        if self._fold_cache is None or self._fold_cache[0] != inner:
            folded: list[Content] = []
            ends: list[str] = []
            for line in self.lines:
                pieces = line.fold(inner) if line.cell_length > inner else [line]
                folded.extend(pieces)
                ends.extend([""] * (len(pieces) - 1) + ["\n"])
            self._fold_cache = (inner, folded, ends)
        return self._fold_cache[1], self._fold_cache[2]

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
        strips = self.render_rows(width, style, options)[0]
        return strips if height is None else strips[:height]

    def render_rows(
        self, width: int, style: Style, options: RenderOptions
    ) -> tuple[list[Strip], list[Row]]:
        """The code copies without its label and padding; a folded line copies whole."""
        panel = style + options.get_style(STYLES["code"])
        pad = Strip([Segment(" " * self.PAD, panel.rich_style)], self.PAD)
        strips: list[Strip] = []
        rows: list[Row] = []
        if self.top:
            title = " ".join(part for part in (
                f"#{self.number}" if self.number else "", self.label) if part)
            label = Content.styled(title[: max(0, width - 2)], STYLES["code-label"])
            strips.append(Strip.join([pad, content_strip(label, panel, options)]))
            rows.append(SKIPPED)
        folded, ends = self._fold(width)
        for line, end in zip(folded, ends):
            strips.append(Strip.join([pad, content_strip(line, panel, options)]))
            rows.append(Row((Run(self.PAD, line.plain),), end))
        if rows and not self.bottom and ends:
            # A piece of a code block still streaming: the next piece goes on a new line.
            rows[-1] = Row(rows[-1].runs, "\n")
        if self.bottom:
            if len(rows) > int(self.top):
                rows[-1] = Row(rows[-1].runs, "")  # the panel's last row follows
            strips.append(Strip([], 0))
            rows.append(Row(end="\n"))
        padded = [strip.extend_cell_length(width, panel.rich_style) for strip in strips]
        return padded, rows

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._height(width) + self.top + self.bottom


def number_code_blocks(visuals: list[Visual], start: int = 0) -> int:
    """Number the code blocks in ``visuals`` (nested ones too) from ``start + 1``, in
    document order; returns the last number given."""
    for visual in visuals:
        if isinstance(visual, CodeVisual):
            start += 1
            visual.number = start
        elif isinstance(visual, Stack):
            start = number_code_blocks(visual.children, start)
        elif isinstance(visual, Prefixed):
            start = number_code_blocks([visual.child], start)
    return start


def number_as(visual: Visual, shown: Visual) -> None:
    """Number the code blocks of ``visual`` as those of ``shown``, the visual it was built
    again from (the same text: the same code blocks)."""
    first = first_code_number(shown)
    if first is not None:
        number_code_blocks([visual], first - 1)


def first_code_number(visual: Visual) -> int | None:
    """The number of the first code block in ``visual`` (nested ones too), if any."""
    if isinstance(visual, CodeVisual):
        return visual.number
    children = (visual.children if isinstance(visual, Stack)
                else [visual.child] if isinstance(visual, Prefixed) else [])
    for child in children:
        number = first_code_number(child)
        if number is not None:
            return number
    return None


def build_code_block(code: str, info: str) -> CodeVisual:
    """A whole code block, highlighted in one pass."""
    if code.endswith("\n"):
        code = code[:-1]
    language = info.split()[0] if info.strip() else ""
    return CodeVisual(code, language)
