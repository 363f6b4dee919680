"""The blocks a streamed reply can leave open for a long time, kept out of the parser.

A code fence and a table can run for hundreds of lines. Parsed again with every update,
they made each update cost as much as the whole block (a 150-row table: ~7 ms an update,
~14 ms for the last). While one is open, :class:`~.markdown_splitter.MarkdownSplitter`
hands its new lines to one of these instead: an :class:`OpenFence` scans them for the
closing fence; an :class:`OpenTable` parses each row once, with its header, as it
completes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.content import Content

from tui.ui.widgets.markdown_blocks import Block, CodeVisual, Stack, build_block, split_top_level
from tui.ui.widgets.markdown_table import TableVisual, build_table

if TYPE_CHECKING:  # markdown-it loads when a reply is first drawn (see tui.ui.app)
    from markdown_it import MarkdownIt

__all__ = [
    "FENCE_CLOSE", "FENCE_OPEN", "OpenFence", "OpenTable", "TableTooLarge", "line_offset",
    "line_offsets",
]

FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
FENCE_CLOSE = re.compile(r"^ {0,3}(`+|~+)[ \t]*$")


def cell_cap() -> int:
    """How many missing cells markdown-it fills in a table before it stops the table (read
    from markdown-it, imported when a table first streams, not at start-up)."""
    from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS

    return MAX_AUTOCOMPLETED_CELLS


@dataclass(eq=False)
class OpenFence:
    """State of a top-level fenced code block that has not been closed yet."""

    char: str
    length: int
    indent: int
    info: str
    lines: list[str] = field(default_factory=list)
    """Complete code lines so far (opener indentation removed)."""
    chunks: list[CodeVisual] = field(default_factory=list)
    """Append-only: each chunk of complete lines, highlighted once."""
    chunked: int = 0
    """How many of ``lines`` are in ``chunks``."""
    live: CodeVisual | None = None
    """The lines after the chunks, plus the partial line; rebuilt per update."""

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.strip() else ""

    def closes(self, line: str) -> bool:
        match = FENCE_CLOSE.match(line)
        return bool(match) and match.group(1)[0] == self.char and len(match.group(1)) >= self.length  # type: ignore[union-attr]

    def strip(self, line: str) -> str:
        """Remove up to the opener's indentation, in columns, as CommonMark does:
        a tab reaches the next multiple of 4, and the part of it past the
        indentation is kept as spaces."""
        if not self.indent:
            return line
        column = 0
        for index, char in enumerate(line):
            if column >= self.indent:
                return line[index:]
            if char == " ":
                column += 1
            elif char == "\t":
                column += 4 - column % 4
                if column > self.indent:
                    return " " * (column - self.indent) + line[index + 1 :]
            else:
                return line[index:]
        return ""


def _fresh(env: dict[str, Any]) -> dict[str, Any]:
    """A copy of a parse's ``env`` that the parse can't add definitions to."""
    return {key: dict(value) if isinstance(value, dict) else value for key, value in env.items()}


def _lines_in(text: str) -> int:
    """Lines ``text`` holds, a last one without its newline included."""
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


@dataclass(eq=False)
class OpenTable:
    """A top-level table whose header and delimiter rows are complete, still growing.

    Rows are independent of each other once the header is known: each complete row line
    is parsed once, behind a copy of the header, by markdown-it itself (so a row ends the
    table exactly where a whole parse would end it), and kept as cells.
    """

    head: str
    """The header and delimiter lines, each with its newline."""
    header: list[Content]
    aligns: list[str]
    rows: list[list[Content]] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    """The row lines taken, in the pieces they came in (to build the table again when a
    reference definition it may use arrives: ``ReferenceBook``)."""

    @classmethod
    def start(cls, parser: MarkdownIt, env: dict[str, Any], head: str) -> OpenTable | None:
        """The table ``head`` (two complete lines) opens; ``None`` if it opens none."""
        tokens = parser.parse(head, _fresh(env))
        if not tokens or tokens[0].type != "table_open":
            return None
        table = build_table(tokens, 0, len(tokens))
        assert isinstance(table, TableVisual)
        return cls(head, table.header, table.aligns)

    @property
    def columns(self) -> int:
        return len(self.header)

    def take(self, parser: MarkdownIt, env: dict[str, Any], lines: str) -> tuple[int, bool]:
        """Parse ``lines`` (complete ones, or the last of the source): how many of them are
        rows of this table, and whether a line among them ended it."""
        count = _lines_in(lines)
        if (len(self.rows) + count) * self.columns > cell_cap():
            raise TableTooLarge  # markdown-it's cap on missing cells counts the whole table
        tokens = parser.parse(self.head + lines, _fresh(env))
        taken = self._rows_in(tokens)
        end = line_offset(lines, taken) if taken < count else len(lines)
        if taken < count and taken:
            # The table ended: its rows are parsed again without the lines below them,
            # whose reference definitions are not final yet (see ``ReferenceBook``).
            tokens = parser.parse(self.head + lines[:end], _fresh(env))
        if taken:
            table = build_table(tokens, *split_top_level(tokens)[0])
            assert isinstance(table, TableVisual)
            self.rows.extend(table.rows)
            self.source.append(lines[:end])
        return taken, taken < count

    def _rows_in(self, tokens: list[Any]) -> int:
        line_map = tokens[0].map
        assert tokens[0].type == "table_open" and line_map is not None
        return line_map[1] - 2

    def block(self) -> Block:
        return Block("table", TableVisual(self.header, list(self.rows), self.aligns))

    def live(self, parser: MarkdownIt, env: dict[str, Any], partial: str) -> Block:
        """The table so far with the partial line after it: one more row, or (a line that
        will end the table) the start of the blocks after it."""
        if not partial:
            return self.block()
        tokens = parser.parse(self.head + partial, _fresh(env))
        groups = split_top_level(tokens)
        table = build_table(tokens, *groups[0])
        assert isinstance(table, TableVisual)
        visual = TableVisual(self.header, [*self.rows, *table.rows], self.aligns)
        if len(groups) == 1:
            return Block("table", visual)
        after = [build_block(tokens, *group).visual for group in groups[1:]]
        return Block("live", Stack([visual, *after]))

    def text(self) -> str:
        """The table's source so far."""
        return self.head + "".join(self.source)


class TableTooLarge(Exception):
    """A table that could reach markdown-it's cap on missing cells is parsed whole."""


def line_offsets(text: str, lines: list[int]) -> list[int]:
    """Character offsets of the starts of ``lines`` (0-based, ascending) in ``text``;
    ``len(text)`` for a line past the end."""
    offsets: list[int] = []
    offset = 0
    line = 0
    for wanted in lines:
        while line < wanted and offset < len(text):
            newline = text.find("\n", offset)
            offset = len(text) if newline < 0 else newline + 1
            line += 1
        offsets.append(offset)
    return offsets


def line_offset(text: str, line: int) -> int:
    """Character offset of the start of ``line`` (0-based) in ``text``."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset
