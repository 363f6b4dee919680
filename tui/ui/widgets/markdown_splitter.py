"""Incremental top-level block splitting for streamed Markdown.

The cost of showing a streamed reply is dominated by re-parsing and re-laying
out what has already been shown.  :class:`MarkdownSplitter` keeps only the
*tail* of the source — from the start of the first unfinished block — and hands
out each block exactly once, when it can no longer change:

* a block is finished when a later top-level block starts on a *complete* line
  (a partial line such as ``#`` or ``***`` may still turn into paragraph text);
* a fenced code block is finished at its closing fence, and while it is open
  the splitter does not run the Markdown parser at all: it only scans the new
  lines for the closing fence and highlights the code in fixed-size chunks, so
  the per-update work stays proportional to the new text;
* a table, once its header and delimiter rows are complete, is not parsed whole
  again either: each new row is parsed once, behind its header (``OpenTable``).

Link reference definitions (``[x]: url``) apply to the whole document, in
either order: a definition counts once the lines it sits on are final; blocks
parsed after that see it, and a block handed out earlier that may use it is
built again and reported in :attr:`MarkdownSplitter.revised`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from tui.core.code_blocks import markdown_parser
from tui.ui.widgets.markdown_blocks import (
    Block,
    CodeVisual,
    Stack,
    build_block,
    build_code_block,
    sanitize,
    split_top_level,
)
from tui.ui.widgets.markdown_open_blocks import (
    FENCE_CLOSE,
    FENCE_OPEN,
    OpenFence,
    OpenTable,
    TableTooLarge,
    line_offset,
    line_offsets,
)
from tui.ui.widgets.markdown_references import ReferenceBook

if TYPE_CHECKING:  # markdown-it loads when a reply is first drawn (see tui.ui.app)
    from markdown_it.token import Token

__all__ = ["MarkdownSplitter", "OpenFence", "OpenTable"]


class MarkdownSplitter:
    """Feed text in pieces; ``update()`` returns newly finished blocks.

    After ``update()``, the unfinished remainder is described by either
    :attr:`live` (a Block for the in-progress tail, an open table's included) or
    :attr:`fence` (an open code block), never both.
    """

    CHUNK_LINES = 16
    """Lines of an open code fence highlighted together and then frozen."""

    def __init__(self) -> None:
        self._parser = markdown_parser()
        self._tail = ""
        self._pending: list[str] = []
        self._pending_cr = False
        self.fence: OpenFence | None = None
        self.table: OpenTable | None = None
        self._whole_tables = False  # set by a table too large to take row by row
        self.live: Block | None = None
        self.handed_out = 0
        """Blocks returned by ``update()`` so far; they are numbered from 0 in that order."""
        self.revised: list[tuple[int, Block]] = []
        """Set by each ``update()``: earlier blocks (by number) to show anew because a
        reference definition they use became final after they were handed out."""
        self._references = ReferenceBook()
        self._numbered = 0
        """Blocks made so far, handed out or about to be (they are numbered in order)."""
        self.parsed_chars_last = 0
        """Characters parsed or scanned by the last ``update()``."""
        self.parsed_chars_max = 0
        self.parsed_chars_total = 0
        self.updates = 0

    @property
    def tail_size(self) -> int:
        """Characters of source not yet handed out as finished blocks (an open block's
        lines included)."""
        held = len(self.table.text()) if self.table is not None else 0
        if self.fence is not None:
            held += sum(map(len, self.fence.lines)) + len(self.fence.lines) + 1
        return len(self._tail) + sum(map(len, self._pending)) + held

    def feed(self, text: str) -> None:
        """Queue new source text; O(len(text))."""
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = text.endswith("\r")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text:
            self._pending.append(sanitize(text))

    def update(self, final: bool = False) -> list[Block]:
        """Parse what is new; return blocks that are now final.

        With ``final=True`` the source is complete: everything is returned and
        :attr:`live` / :attr:`fence` end up ``None``.
        """
        if self._pending:
            self._tail += "".join(self._pending)
            self._pending.clear()
        self.parsed_chars_last = 0
        self.revised = []
        finished: list[Block] = []
        while True:
            if self.fence is not None:
                block = self._advance_fence(final)
                if block is None:
                    break
                finished.append(block)
                continue
            if self.table is not None:
                block = self._advance_table(final)
                if block is not None:
                    finished.append(block)
                    continue
                if self.table is not None:
                    break
                # else the table was too large to take row by row: parsed whole, below
            finished.extend(self._parse_tail(final))
            if self.fence is None and self.table is None:
                break
        # A block revised before it was handed out is simply handed out revised.
        earlier: list[tuple[int, Block]] = []
        for number, block in self.revised:
            if number >= self.handed_out:
                finished[number - self.handed_out] = block
            else:
                earlier.append((number, block))
        self.revised = earlier
        self.handed_out += len(finished)
        self.updates += 1
        self.parsed_chars_max = max(self.parsed_chars_max, self.parsed_chars_last)
        self.parsed_chars_total += self.parsed_chars_last
        return finished

    # -- normal mode -------------------------------------------------------------

    def _parse_tail(self, final: bool) -> list[Block]:
        tail = self._tail
        self.live = None
        if not tail.strip():
            if final:
                self._tail = ""
            return []
        env = self._references.env()
        tokens = self._parser.parse(tail, env)
        self.parsed_chars_last += len(tail)
        groups = split_top_level(tokens)
        if final:
            self._tail = ""
            return self._hand_out(tail, tokens, groups, tail.count("\n") + 1, env)
        if not groups:
            return []

        complete_lines = tail.count("\n")

        def start_line(group: tuple[int, int]) -> int:
            line_map = tokens[group[0]].map
            return line_map[0] if line_map else 0

        def trusted(index: int) -> bool:
            """Starts a block whatever comes next: on a complete line; a table right
            below the block before it (no blank line between) only once its delimiter
            row is complete too, as until then its first row may join that block."""
            line = start_line(groups[index])
            if tokens[groups[index][0]].type == "table_open":
                above = tokens[groups[index - 1][0]].map
                if above is None or above[1] >= line:
                    line += 1
            return line < complete_lines

        # The first group that has no trusted successor is where the unfinished tail begins.
        keep = len(groups) - 1
        while keep > 0 and not trusted(keep):
            keep -= 1
        remaining = groups[keep:]
        first_line = start_line(remaining[0])
        first = tokens[remaining[0][0]]
        opens_fence = (len(remaining) == 1 and first.type == "fence"
                       and complete_lines > first_line and first.map)
        # A definition right above the live block may still take its lines as a title;
        # the tail keeps it until that block is finished (a fence opener can't be one).
        end_line = first_line if opens_fence else self._references.final_end(env, first_line)
        finished = self._hand_out(tail, tokens, groups[:keep], end_line, env)
        offset = line_offset(tail, end_line)
        tail = self._tail = tail[offset:]
        complete_lines -= first_line

        if opens_fence and first.map:
            last_line = first.map[1] - first_line - 1
            opener = FENCE_OPEN.match(tail[: tail.index("\n")])
            if opener is None:  # pragma: no cover - markdown-it said it is a fence
                self.live = build_block(tokens, *remaining[0])
                return finished
            fence = OpenFence(
                char=opener.group(2)[0],
                length=len(opener.group(2)),
                indent=len(opener.group(1)),
                info=opener.group(3).strip(),
            )
            lines = tail.split("\n")
            if last_line >= 1 and last_line < complete_lines and fence.closes(lines[last_line]):
                # Closed fence on complete lines: final right away.
                finished.append(build_block(tokens, *remaining[0]))
                self._numbered += 1
                self._tail = tail[line_offset(tail, last_line + 1) :]
                return finished + self._parse_tail(final)
            # Open fence: from now on only scan lines, never re-parse.
            self.fence = fence
            self._tail = tail[tail.index("\n") + 1 :]
            return finished

        if (len(remaining) == 1 and first.type == "table_open" and end_line == first_line
                and complete_lines >= 2 and not self._whole_tables):
            head = tail[: line_offset(tail, 2)]
            self.table = OpenTable.start(self._parser, env, head)
            if self.table is not None:  # from now on, each row is parsed once
                self._tail = tail[len(head) :]
                return finished
        if len(remaining) == 1:
            self.live = build_block(tokens, *remaining[0])
        else:
            blocks = [build_block(tokens, start, stop) for start, stop in remaining]
            self.live = Block("live", Stack([block.visual for block in blocks]))
        return finished

    # -- reference definitions -----------------------------------------------------

    def _hand_out(
        self,
        tail: str,
        tokens: Sequence[Token],
        groups: Sequence[tuple[int, int]],
        end_line: int,
        env: dict[str, Any],
    ) -> list[Block]:
        """Blocks for the finished ``groups`` (source lines before ``end_line``).

        Definitions on those lines become final here. A finished block must not
        depend on a definition further down that may still change, so in the rare
        case the tail holds one, the finished lines are parsed again without it.
        """
        final, unsettled = self._references.settle(env, end_line)
        if not groups and not final:
            return []
        prefix = tail[: line_offset(tail, end_line)] if end_line <= tail.count("\n") else tail
        if unsettled and groups:
            tokens = self._parser.parse(prefix, self._references.env())
            groups = split_top_level(tokens)
            self.parsed_chars_last += len(prefix)
        blocks = [build_block(tokens, start, stop) for start, stop in groups]
        if final:
            revised, parsed = self._references.revise(final, self._parser)
            self.revised.extend(revised)
            self.parsed_chars_last += parsed
        if "]" in prefix:
            starts = [tokens[start].map[0] if tokens[start].map else 0 for start, _ in groups]
            offsets = line_offsets(prefix, [*starts, end_line])
            for index, (begin, end) in enumerate(zip(offsets, offsets[1:])):
                self._references.note(self._numbered + index, prefix[begin:end])
        self._numbered += len(blocks)
        return blocks

    # -- open table mode -----------------------------------------------------------

    def _advance_table(self, final: bool) -> Block | None:
        """Take the open table's new complete rows; a Block when a line ends it."""
        table = self.table
        assert table is not None
        tail = self._tail
        cut = len(tail) if final else tail.rfind("\n") + 1
        env = self._references.env()
        try:
            taken, ended = table.take(self._parser, env, tail[:cut]) if cut else (0, False)
        except TableTooLarge:
            self.table, self._tail, self._whole_tables = None, table.text() + tail, True
            return None
        self.parsed_chars_last += (len(table.head) + cut) if cut else 0
        if ended or final:
            self._tail = tail[line_offset(tail, taken) :] if ended else ""
            self.table = None
            self._references.note(self._numbered, table.text())
            self._numbered += 1
            return table.block()
        self._tail = tail = tail[cut:]
        self.parsed_chars_last += len(table.head) + len(tail) if tail else 0
        self.live = table.live(self._parser, env, tail)
        return None

    # -- open fence mode -----------------------------------------------------------

    def _advance_fence(self, final: bool) -> Block | None:
        """Consume complete lines of the open fence; a Block when it closes."""
        fence = self.fence
        assert fence is not None
        tail = self._tail
        position = 0
        closed = False
        while True:
            newline = tail.find("\n", position)
            if newline < 0:
                break
            line = tail[position:newline]
            position = newline + 1
            if fence.closes(line):
                closed = True
                break
            fence.lines.append(fence.strip(line))
        self.parsed_chars_last += position
        self._tail = tail[position:]
        partial_line = False
        if final and not closed:
            partial = self._tail
            # markdown-it drops a last line of blanks without its newline from the code
            if partial.strip(" \t") and not fence.closes(partial):
                fence.lines.append(fence.strip(partial))
                partial_line = True
            self._tail = ""
            closed = True
        if closed:
            self.fence = None
            # Each line keeps its newline, as in markdown-it's fence content (a blank
            # last line stays); a partial last line at the end of the source has none.
            code = "".join(line + "\n" for line in fence.lines)
            if final and partial_line:
                code = code[:-1]
            self._numbered += 1
            return Block("code", build_code_block(code, fence.info))

        language = fence.language
        while len(fence.lines) - fence.chunked >= self.CHUNK_LINES:
            chunk = fence.lines[fence.chunked : fence.chunked + self.CHUNK_LINES]
            fence.chunks.append(
                CodeVisual(
                    "\n".join(chunk),
                    language,
                    top=fence.chunked == 0,
                    bottom=False,
                )
            )
            fence.chunked += self.CHUNK_LINES
        rest = fence.lines[fence.chunked :]
        partial = self._tail
        if partial and not FENCE_CLOSE.match(partial):
            rest = [*rest, fence.strip(partial)]
        self.parsed_chars_last += sum(map(len, rest))
        fence.live = CodeVisual(
            "\n".join(rest),
            language,
            top=fence.chunked == 0,
            bottom=True,
        )
        return None
