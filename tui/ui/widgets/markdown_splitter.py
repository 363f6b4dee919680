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
  the per-update work stays proportional to the new text.

Known limitation: link reference definitions (``[x]: url``) only apply inside
the block range parsed together with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tui.ui.widgets.markdown_blocks import (
    Block,
    CodeVisual,
    Stack,
    build_block,
    build_code_block,
    make_parser,
    sanitize,
    split_top_level,
)

__all__ = ["MarkdownSplitter", "OpenFence"]

_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`+|~+)[ \t]*$")


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
        match = _FENCE_CLOSE.match(line)
        return bool(match) and match.group(1)[0] == self.char and len(match.group(1)) >= self.length  # type: ignore[union-attr]

    def strip(self, line: str) -> str:
        """Remove up to the opener's indentation, as CommonMark does."""
        if not self.indent:
            return line
        spaces = len(line) - len(line.lstrip(" "))
        return line[min(spaces, self.indent) :]


class MarkdownSplitter:
    """Feed text in pieces; ``update()`` returns newly finished blocks.

    After ``update()``, the unfinished remainder is described by either
    :attr:`live` (a Block for the in-progress tail) or :attr:`fence` (an open
    code block), never both.
    """

    CHUNK_LINES = 16
    """Lines of an open code fence highlighted together and then frozen."""

    def __init__(self) -> None:
        self._parser = make_parser()
        self._tail = ""
        self._pending: list[str] = []
        self._pending_cr = False
        self.fence: OpenFence | None = None
        self.live: Block | None = None
        self.parsed_chars_last = 0
        """Characters parsed or scanned by the last ``update()``."""
        self.parsed_chars_max = 0
        self.parsed_chars_total = 0
        self.updates = 0

    @property
    def tail_size(self) -> int:
        """Characters of source not yet handed out as finished blocks."""
        return len(self._tail) + sum(map(len, self._pending))

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
        finished: list[Block] = []
        while True:
            if self.fence is not None:
                block = self._advance_fence(final)
                if block is None:
                    break
                finished.append(block)
                continue
            finished.extend(self._parse_tail(final))
            if self.fence is None:
                break
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
        tokens = self._parser.parse(tail)
        self.parsed_chars_last += len(tail)
        groups = split_top_level(tokens)
        if not groups:
            return []
        if final:
            self._tail = ""
            return [build_block(tokens, start, stop) for start, stop in groups]

        complete_lines = tail.count("\n")

        def start_line(group: tuple[int, int]) -> int:
            line_map = tokens[group[0]].map
            return line_map[0] if line_map else 0

        # The first group that starts on a complete line and has no trusted
        # successor is where the unfinished tail begins.
        keep = len(groups) - 1
        while keep > 0 and start_line(groups[keep]) >= complete_lines:
            keep -= 1
        finished = [build_block(tokens, start, stop) for start, stop in groups[:keep]]
        remaining = groups[keep:]
        first_line = start_line(remaining[0])
        offset = _line_offset(tail, first_line)
        tail = self._tail = tail[offset:]
        complete_lines -= first_line

        first = tokens[remaining[0][0]]
        if len(remaining) == 1 and first.type == "fence" and complete_lines >= 1 and first.map:
            last_line = first.map[1] - first_line - 1
            opener = _FENCE_OPEN.match(tail[: tail.index("\n")])
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
                self._tail = tail[_line_offset(tail, last_line + 1) :]
                return finished + self._parse_tail(final)
            # Open fence: from now on only scan lines, never re-parse.
            self.fence = fence
            self._tail = tail[tail.index("\n") + 1 :]
            return finished

        if len(remaining) == 1:
            self.live = build_block(tokens, *remaining[0])
        else:
            blocks = [build_block(tokens, start, stop) for start, stop in remaining]
            self.live = Block("live", Stack([block.visual for block in blocks]))
        return finished

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
        if final and not closed:
            partial = self._tail
            if partial and not fence.closes(partial):
                fence.lines.append(fence.strip(partial))
            self._tail = ""
            closed = True
        if closed:
            self.fence = None
            code = "\n".join(fence.lines)
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
        if partial and not _FENCE_CLOSE.match(partial):
            rest = [*rest, fence.strip(partial)]
        self.parsed_chars_last += sum(map(len, rest))
        fence.live = CodeVisual(
            "\n".join(rest),
            language,
            top=fence.chunked == 0,
            bottom=True,
        )
        return None


def _line_offset(text: str, line: int) -> int:
    """Character offset of the start of ``line`` (0-based) in ``text``."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset
