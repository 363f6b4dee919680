"""Markdown tables: cells wrapped to fit, columns shrunk widest-first; one record per row
(``Header │ value`` lines, like ``psql``'s expanded display) when the columns can't fit.

Nothing is ever cut off. Sideways scrolling was the other choice, but in a chat log it hides
columns behind a key press, breaks copying and searching the screen, and a table scrolled
within a scrolling log is awkward with a mouse wheel; wrapping every column down to one or
two cells leaves a column of single letters nobody can read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from tui.ui.widgets.markdown_inline import inline_content
from tui.ui.widgets.markdown_layout import content_strip
from tui.ui.widgets.markdown_selection import BLANK, SKIPPED, Row, Run
from tui.ui.widgets.markdown_styles import STYLES

if TYPE_CHECKING:  # markdown-it loads when a reply is first drawn (see tui.ui.app)
    from markdown_it.token import Token

__all__ = ["TableVisual", "build_table"]



def _wrapped(cell: Content, width: int) -> list[Content]:
    """A cell's lines at ``width``; most cells fit on one line, which needs no wrapping (the
    wrap was ~40% of drawing a table, redrawn with every update of a streaming one)."""
    if cell.cell_length <= width and "\n" not in cell.plain and "\t" not in cell.plain:
        return [cell]
    return cell.wrap(width) or [Content("")]


SEPARATOR = " │ "
COPIED_SEPARATOR = " | "


CACHE_LIMIT = 4096
"""Entries each cache below keeps before it starts afresh."""

_ROWS: dict[tuple[object, ...], tuple[tuple[Content, ...], tuple[tuple[Content, Row], ...]]] = {}
_STRIPS: dict[tuple[object, ...], dict[int, tuple[Content, Strip]]] = {}

EMPTY_CELL = Content("")


def _row_lines(cells: tuple[Content, ...], widths: tuple[int, ...], aligns: tuple[str, ...],
               header: bool) -> tuple[tuple[Content, Row], ...]:
    """The lines one table row is drawn as, at these column widths. Cached by the cells
    themselves (not their text: ``Content`` compares by text alone, so a bold cell would
    have been drawn as a plain one with the same words): a streaming table is drawn again
    with every update, and its rows (the same cells: ``OpenTable``) come back each time;
    only a new row, or new widths, costs wrapping and padding again. The entry holds the
    cells, so no other object can take their ids while it lasts."""
    key = (*map(id, cells), widths, aligns, header)
    hit = _ROWS.get(key)
    if hit is not None:
        return hit[1]
    lines = _draw_row(cells, widths, aligns, header)
    if len(_ROWS) >= CACHE_LIMIT:
        _ROWS.clear()
    _ROWS[key] = (cells, lines)
    return lines


def _draw_row(cells: tuple[Content, ...], widths: tuple[int, ...], aligns: tuple[str, ...],
              header: bool) -> tuple[tuple[Content, Row], ...]:
    wrapped = [_wrapped(cell, w) for cell, w in zip(cells, widths)]
    separator = Content.styled(SEPARATOR, STYLES["table-border"])
    lines: list[tuple[Content, Row]] = []
    for y in range(max(len(w) for w in wrapped)):
        pieces: list[Content] = []
        for column, (cell_lines, w) in enumerate(zip(wrapped, widths)):
            piece = cell_lines[y] if y < len(cell_lines) else Content("")
            piece = piece.rstrip()
            space = max(0, w - piece.cell_length)
            if aligns[column] == "center":
                piece = piece.pad(space // 2, space - space // 2)
            elif aligns[column] == "right":
                piece = piece.pad_left(space)
            else:
                piece = piece.pad_right(space)
            if header:
                piece = piece.stylize_before(STYLES["table-header"])
            pieces.append(piece)
        lines.append((separator.join(pieces), _copied(pieces)))
    return tuple(lines)


def _line_strips(lines: list[tuple[Content, Row]], width: int, style: Style,
                 options: RenderOptions) -> list[Strip]:
    """Each line as a Strip, cached by the line (the same object while its row's drawing
    is cached), the base style and what the theme makes of the inline styles: converting
    ~150 lines of a streaming table on every update was most of drawing it."""
    theme = tuple(options.get_style(text) for text in STYLES.values())
    known = _STRIPS.get((width, style, theme))
    if known is None:
        if len(_STRIPS) >= 16:
            _STRIPS.clear()
        known = _STRIPS[(width, style, theme)] = {}
    elif len(known) >= CACHE_LIMIT:
        known.clear()
    strips: list[Strip] = []
    for line, _ in lines:
        hit = known.get(id(line))
        if hit is None:
            hit = known[id(line)] = (line, content_strip(line, style, options).crop(0, width))
        strips.append(hit[1])
    return strips


def _copied(pieces: list[Content]) -> Row:
    """A table row copies as shown, its borders as ``|``: the columns stay aligned."""
    return Row((Run(0, COPIED_SEPARATOR.join(p.plain for p in pieces).rstrip()),))

class TableVisual(Visual):
    """A table with wrapped cells; columns shrink widest-first to fit, down to
    :attr:`MIN_COLUMN` cells each; below that, one record per row."""

    SEPARATOR = SEPARATOR
    COPIED_SEPARATOR = COPIED_SEPARATOR
    """What a border between two cells copies as (box-drawing glyphs are never copied); as
    wide as :attr:`SEPARATOR`, so each copied character is one shown."""

    MIN_COLUMN = 6
    """Narrowest a column is squeezed to (a narrower one keeps its own width): short
    words and numbers stay whole. A table that can't give every column this much is
    shown one record per row."""

    def __init__(
        self, header: list[Content], rows: list[list[Content]], aligns: list[str]
    ) -> None:
        columns = max([len(header), *(len(row) for row in rows)] or [0])
        self.header = _padded(header, columns)
        self.rows = [_padded(row, columns) for row in rows]
        self.aligns = aligns + ["left"] * (columns - len(aligns))
        self.columns = columns
        self._cache: tuple[int, list[tuple[Content, Row]]] | None = None

    def _widths(self, width: int) -> list[int] | None:
        """Column widths that fit ``width``; ``None`` when the columns can't fit."""
        natural = [
            max([1, *(row[c].cell_length for row in [self.header, *self.rows])])
            for c in range(self.columns)
        ]
        least = [min(w, self.MIN_COLUMN) for w in natural]
        room = width - len(self.SEPARATOR) * (self.columns - 1)
        if sum(least) > room:
            return None
        excess = sum(natural) - room
        while excess > 0:
            widest = max(range(self.columns), key=lambda c: natural[c] - least[c])
            others = [w for c, w in enumerate(natural) if c != widest]
            target = max(least[widest], max(others, default=0))
            cut = min(excess, natural[widest] - target) or 1
            natural[widest] -= cut
            excess -= cut
        return natural

    def _row_lines(self, cells: list[Content], widths: list[int],
                   header: bool) -> tuple[tuple[Content, Row], ...]:
        return _row_lines(tuple(cells), tuple(widths), tuple(self.aligns), header)

    def _copied(self, pieces: list[Content]) -> Row:
        return _copied(pieces)

    def _lines(self, width: int) -> list[tuple[Content, Row]]:
        if self._cache is None or self._cache[0] != width:
            if not self.columns:
                lines: list[tuple[Content, Row]] = []
            else:
                widths = self._widths(width)
                lines = self._grid(widths) if widths is not None else self._records(width)
            self._cache = (width, lines)
        return self._cache[1]

    def _grid(self, widths: list[int]) -> list[tuple[Content, Row]]:
        lines = list(self._row_lines(self.header, widths, True))
        lines.append((self._rule(widths), SKIPPED))
        for row in self.rows:
            lines.extend(self._row_lines(row, widths, False))
        return lines

    def _rule(self, widths: list[int]) -> Content:
        return Content.styled("─┼─", STYLES["table-border"]).join(
            Content.styled("─" * w, STYLES["table-border"]) for w in widths
        )

    def _records(self, width: int) -> list[tuple[Content, Row]]:
        """Each row as ``header │ value`` lines, records separated by a rule."""
        label = max(1, min(max(h.cell_length for h in self.header), (width - 3) // 2))
        value = max(1, width - label - len(self.SEPARATOR))
        separator = Content.styled(self.SEPARATOR, STYLES["table-border"])
        lines: list[tuple[Content, Row]] = []
        for number, row in enumerate(self.rows or [[Content("")] * self.columns]):
            if number:
                lines.append((self._rule([label, value]), BLANK))
            for head, cell in zip(self.header, row):
                heads = head.wrap(label) or [Content("")]
                cells = cell.wrap(value) or [Content("")]
                for y in range(max(len(heads), len(cells))):
                    left = heads[y].rstrip() if y < len(heads) else Content("")
                    left = left.pad_right(max(0, label - left.cell_length))
                    right = cells[y].rstrip() if y < len(cells) else Content("")
                    lines.append((Content.assemble(
                        left.stylize_before(STYLES["table-header"]), separator, right),
                        self._copied([left, right])))
        return lines

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        strips = self.render_rows(width, style, options)[0]
        return strips if height is None else strips[:height]

    def render_rows(
        self, width: int, style: Style, options: RenderOptions
    ) -> tuple[list[Strip], list[Row]]:
        lines = self._lines(width)
        return _line_strips(lines, width, style, options), [row for _, row in lines]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self._lines(width))


def _padded(cells: list[Content], columns: int) -> list[Content]:
    """``cells`` made ``columns`` long; the same list when it is (its cells' drawing is
    cached by the cells themselves)."""
    return cells if len(cells) == columns else cells + [EMPTY_CELL] * (columns - len(cells))


def _alignment(token: Token) -> str:
    style = str(token.attrs.get("style", ""))
    for name in ("center", "right"):
        if name in style:
            return name
    return "left"


def build_table(tokens: Sequence[Token], start: int, stop: int) -> Visual:
    """The TableVisual for a ``table_open`` … ``table_close`` token range."""
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
