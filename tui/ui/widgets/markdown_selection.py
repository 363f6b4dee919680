"""Mouse selection over the Markdown visuals: what a rendered row copies as, and the offset
metadata that lets Textual's selection find characters in it.

Textual selects text in a widget whose rendered segments carry ``{"offset": (x, y)}`` meta
and asks the widget's ``get_selection`` for the text between two offsets. ``Content`` does
that for one paragraph; the visuals here stack, prefix, pad and draw boxes around many of
them, so they describe each rendered row as a :class:`Row`: the runs of shown text it copies
as (decorations - quote bars, code labels and padding - are no run), and what
joins it to the next row (a newline, or the space a word wrap took away).

Offsets are (character in the row's copied text, row), so a selection is a range of rows;
:func:`extract` turns one back into text and :func:`selectable_strips` puts the offsets and
the selection highlight on the strips. Rows are built with every draw (cheap: no styles);
offsets only for the row under the pointer and while a selection is shown (see
:class:`Selectable`). A paragraph or heading shown alone is plain ``Content``, which Textual
handles itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content
from textual.css.styles import RulesMap
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

__all__ = [
    "Row",
    "Run",
    "Selectable",
    "content_rows",
    "extract",
    "render_rows",
    "selectable_strips",
]


@dataclass(frozen=True, slots=True)
class Run:
    """Shown text that is copied: ``text`` occupies the row's cells from ``cell`` on, one
    character of it for each character drawn there."""

    cell: int
    text: str


@dataclass(frozen=True, slots=True)
class Row:
    """What one rendered row copies as. ``end`` follows the row's text when a selection
    goes on to the next row: a newline, the space a word wrap took, or nothing (a folded
    line, a row that copies as nothing)."""

    runs: tuple[Run, ...] = ()
    end: str = "\n"

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)

    def shifted(self, cells: int, first: Run | None = None) -> Row:
        """The row drawn ``cells`` further right, after ``first`` (a copied prefix)."""
        runs = tuple(dataclasses.replace(run, cell=run.cell + cells) for run in self.runs)
        return Row(((first,) if first is not None else ()) + runs, self.end)


BLANK = Row()
SKIPPED = Row(end="")
"""A row that copies as nothing at all (a code label, a table's header rule)."""


def render_rows(visual: Visual, width: int, style: Style,
                options: RenderOptions) -> tuple[list[Strip], list[Row]]:
    """Strips of ``visual`` and the Row each copies as (a visual of ours says so with a
    ``render_rows`` method; any other copies as nothing)."""
    if isinstance(visual, Content):
        strips = visual.render_strips(width, None, style, options)
        return strips, content_rows(visual, strips)
    render = getattr(visual, "render_rows", None)
    if render is not None:
        return render(width, style, options)
    strips = visual.render_strips(width, None, style, options)
    return strips, [SKIPPED] * len(strips)


def content_rows(content: Content, strips: Sequence[Strip]) -> list[Row]:
    """Rows of a wrapped ``Content``, read from the offsets Content put on its segments: a
    row that continues the same source line is joined by what the wrap took out."""
    lines: list[str] | None = None
    rows: list[Row] = []
    previous: tuple[int, int] | None = None  # (source line, end offset) of the last row
    for strip in strips:
        cell = 0
        parts: list[str] = []
        where: tuple[int, int] | None = None
        for text, segment_style, _ in strip:
            # Content puts offsets on every segment of its text and none on padding.
            if segment_style is None or segment_style._meta is None:
                if not parts:
                    cell += cell_len(text)
                continue
            if where is None:
                where = segment_style.meta.get("offset")
            parts.append(text)
        if where is None:
            rows.append(BLANK)
            previous = None
            continue
        x, y = where
        if previous is not None and previous[0] == y and rows:
            if lines is None:
                lines = content.plain.split("\n")
            rows[-1] = Row(rows[-1].runs, lines[y][previous[1]:x])
        text = "".join(parts)
        rows.append(Row((Run(cell, text),)))
        previous = (y, x + len(text))
    return rows


def extract(rows: Sequence[Row], selection: Selection) -> str:
    """The text ``selection`` (in row offsets) covers."""
    if not rows:
        return ""
    start_y, start_x = (0, 0) if selection.start is None else (selection.start.y,
                                                               max(0, selection.start.x))
    end_y, end_x = ((len(rows) - 1, None) if selection.end is None
                    else (selection.end.y, max(0, selection.end.x)))
    end_y = min(end_y, len(rows) - 1)
    pieces: list[str] = []
    for y in range(max(0, start_y), end_y + 1):
        row = rows[y]
        text = row.text
        stop = end_x if y == end_y else None
        pieces.append(text[start_x if y == start_y else 0: stop])
        if y < end_y:
            pieces.append(row.end)
    return "".join(pieces)


def _offset(x: int, y: int) -> RichStyle:
    return RichStyle.from_meta({"offset": (x, y)})


def _chars(text: str, cells: int) -> int:
    """How many characters of ``text`` fill its first ``cells`` cells."""
    if text.isascii():
        return cells
    count = used = 0
    for char in text:
        if used >= cells:
            break
        used += cell_len(char)
        count += 1
    return count


def selectable_strips(strips: Sequence[Strip], rows: Sequence[Row], selection: Selection | None,
                      highlight: RichStyle | None, first_y: int = 0) -> list[Strip]:
    """``strips`` (rows ``first_y``… of the visual) with offset meta on every segment of
    each row's runs and decorations, and the selected part of the runs in the ``highlight``
    style.

    A decoration before a run gets offsets that end at the run's first character: Textual
    counts characters into a segment, so a pointer over any cell of a quote bar lands on
    the text after it (offsets below zero are read as zero). A row that copies as nothing
    gets a zero-width segment at its start, so a pointer over it is at the row's start.
    """
    result: list[Strip] = []
    for y, (strip, row) in enumerate(zip(strips, rows), first_y):
        span = selection.get_span(y) if selection is not None and highlight else None
        if span is not None:
            span = (max(0, span[0]), span[1])
        runs = row.runs
        if not runs:
            result.append(Strip([Segment("", _offset(0, y)), *strip], strip.cell_length))
            continue
        starts: list[int] = []
        index = 0
        for run in runs:
            starts.append(index)
            index += len(run.text)
        segments: list[Segment] = []
        cell = 0
        number = 0  # the first run not yet left behind
        for segment in strip:
            text, style, control = segment
            width = cell_len(text)
            while number < len(runs) and cell >= runs[number].cell + cell_len(runs[number].text):
                number += 1
            if control or not text:
                segments.append(segment)
            elif number == len(runs):  # after the last run: Textual uses the row's end
                segments.append(segment)
            elif cell < runs[number].cell:  # a decoration before a run
                meta = _offset(starts[number] - len(text) + 1, y)
                segments.append(Segment(text, style + meta if style else meta))
            else:
                run = runs[number]
                x = starts[number] + _chars(run.text, cell - run.cell)
                segments.extend(_run_segments(text, style, x, y, span, highlight))
            cell += width
        result.append(Strip(segments, strip.cell_length))
    return result


def _run_segments(text: str, style: RichStyle | None, x: int, y: int,
                  span: tuple[int, int] | None, highlight: RichStyle | None) -> list[Segment]:
    """One segment of shown text (its first character is ``x``), the part ``span`` covers
    in the ``highlight`` style (split only then)."""
    base = style or RichStyle()
    if span is not None and highlight is not None:
        end = x + len(text) if span[1] == -1 else span[1]
        first, last = max(span[0], x), min(end, x + len(text))
        if first < last:
            parts = ((text[: first - x], x, False), (text[first - x: last - x], first, True),
                     (text[last - x:], last, False))
            return [Segment(part, (base + highlight if lit else base) + _offset(at, y))
                    for part, at, lit in parts if part]
    return [Segment(text, base + _offset(x, y))]


class Selectable(Visual):
    """A widget's whole visual made selectable.

    It draws ``visual`` exactly as before while nothing is selected in it (offset meta on
    every segment would keep a screenshot's equal neighbours from merging, and costs a
    little on every redraw); Textual finds characters by reading a row back from the
    widget, which :func:`offset_line` answers with the offsets added to that one row. With
    a selection in the widget, every row is drawn with its offsets and the highlight. The
    rows last drawn are kept for ``get_selection``.
    """

    def __init__(self, visual: Visual) -> None:
        self.visual = visual
        self._rows: tuple[int, list[Row]] | None = None

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        inner = dataclasses.replace(options, selection=None, selection_style=None)
        strips, rows = render_rows(self.visual, width, style, inner)
        self._rows = (width, rows)
        if options.selection is not None and options.selection_style is not None:
            lit = style + options.selection_style
            highlight = RichStyle(
                color=lit.foreground.rich_color if lit.foreground else None,
                bgcolor=lit.background.rich_color if lit.background else None)
            strips = selectable_strips(strips, rows, options.selection, highlight)
        return strips if height is None else strips[:height]

    def rows(self, width: int) -> list[Row] | None:
        """The rows last drawn at ``width`` (None: not drawn at that width)."""
        return self._rows[1] if self._rows is not None and self._rows[0] == width else None

    def offset_line(self, y: int, line: Strip) -> Strip:
        """Row ``y`` as drawn (``line``) with its offsets, for Textual to find a character."""
        rows = self._rows[1] if self._rows is not None else []
        if y >= len(rows):
            return line
        return selectable_strips([line], [rows[y]], None, None, y)[0]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.visual.get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.visual.get_height(rules, width)
