"""Property: random Markdown streamed in random pieces shows exactly what loading it shows.

Documents are built from line fragments that exercise the splitter's edges (fences opened and
closed, indented code, tables with complete and incomplete delimiter rows, reference
definitions before and after their uses, setext underlines, quotes, tabs, blank lines). Every
shown word is unique (``w<number>x``), so a screen taken mid-stream can be checked too: its
words come in source order, none twice.

Derandomized with no example database: the same examples run on every machine.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_streaming_markdown import Host, plain, screen_lines
from tests.test_streaming_markdown_commonmark import shown
from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.streaming_markdown import StreamingMarkdown

EXAMPLES = int(os.environ.get("GPT_TUI_MARKDOWN_EXAMPLES", "1"))
"""Scale for a longer hunt (``GPT_TUI_MARKDOWN_EXAMPLES=20``); 1 keeps the suite fast."""

WIDTHS = (72, 34)
HEIGHT = 160
WORD = re.compile(r"\bw\d+x\b")
"""A shown word; the ``x`` tells a whole word from one still arriving (``w1`` of ``w12x``)."""

# ``{}`` is replaced by a fresh word, so a document never repeats one.
FRAGMENTS = [
    "", "", "",
    "{} {}", "{}", "*{}* **{}**", "{} `{}`",
    "# {}", "## {} {}", "=====", "---", "***",
    "- {}", "  - {}", "* {}", "1. {}", "2) {}", "-\t{}", "\t- {}",
    "> {}", "> - {}", ">\t{}", ">",
    "```", "```py", "~~~", "````",
    "    {}", "\t{}", "  {}",
    "| {} | {} |", "{} | {}", "| --- | --- |", "|---|:-:|", "--|-", "| -", "| {} |",
    "[ra]: https://e.x/ra", "[rb]: /rb 'title'", "[Rc]:\n  /rc", "[rb]: /again", "  'title'",
    "'two-line", "title'",
    "see [{}][ra] and [rb]", "[rc] {}", "[{}][rb]",
]

documents = st.tuples(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=24), st.booleans())

# Tables that grow row by row (``OpenTable``), and the lines that end them or not: a line
# without pipes, an indented one, a terminator, a partial last line, escaped pipes, cells
# with references defined below the table, too few and too many cells.
TABLE_FRAGMENTS = [
    "| {} | {} |", "| {} | {} |", "| {} | {} |", "| --- | :-: |", "|---|---|", "{} | {}",
    "| {} |", "| {} | {} | {} |", "| `{}|{}` | \\| {} |", "{}", "  | {} | {} |",
    "    | {} |", "", "# {}", "> {}", "- {}", "```", "---", "|", " ", "<div>",
    "| [{}][ra] | [rb] |", "[ra]: /ra", "[rb]: /rb", "{} [ra]",
]

table_documents = st.tuples(
    st.lists(st.sampled_from(TABLE_FRAGMENTS), min_size=2, max_size=30), st.booleans())


def build(lines: list[str], final_newline: bool) -> str:
    counter = iter(range(1, 10_000))
    text = "\n".join(re.sub(r"\{\}", lambda _: f"w{next(counter)}x", line) for line in lines)
    return text + "\n" if final_newline else text


def cuts(text: str, sizes: list[int]) -> list[str]:
    """``text`` in pieces of the given sizes, taken in turn until it is used up."""
    pieces: list[str] = []
    position = 0
    while position < len(text):
        for size in sizes:
            pieces.append(text[position : position + size])
            position += size
            if position >= len(text):
                break
    return pieces


def assert_in_source_order(screen: list[str], words: list[str]) -> None:
    seen = WORD.findall("\n".join(screen))
    assert len(seen) == len(set(seen)), f"a word shown twice: {seen}"
    order = {word: index for index, word in enumerate(words)}
    positions = [order[word] for word in seen]
    assert positions == sorted(positions), f"words out of order: {seen}"


async def stream_and_load(text: str, pieces: list[str], refresh: list[bool]) -> None:
    words = WORD.findall(text)
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(WIDTHS[0], HEIGHT)) as pilot:
        await pilot.pause()
        widget.FLUSH_INTERVAL = 0
        for piece, look in zip(pieces, refresh):
            flushes = widget.flush_count
            widget.append(piece)
            if look:
                await shown(pilot, widget, flushes)
                assert_in_source_order(screen_lines(app), words)
        widget.finish()
        await pilot.pause()
        streamed = [screen_lines(app)]
        await pilot.resize_terminal(WIDTHS[1], HEIGHT)
        await pilot.pause()
        streamed.append(screen_lines(app))
        heights = [widget.outer_size.height]
        assert widget.outer_size.height < HEIGHT, "the screen shows all of it"
        widget.set_text(text)
        await pilot.pause()
        loaded = [screen_lines(app)]
        heights.append(widget.outer_size.height)
        await pilot.resize_terminal(WIDTHS[0], HEIGHT)
        await pilot.pause()
        loaded.insert(0, screen_lines(app))
    assert streamed == loaded
    assert heights[0] == heights[1], "as tall streamed as loaded (an empty reply too)"
    assert_in_source_order(loaded[0], words)


@settings(max_examples=30 * EXAMPLES, deadline=timedelta(seconds=20), derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    document=documents,
    sizes=st.lists(st.integers(1, 16), min_size=1, max_size=12),
    refresh=st.lists(st.booleans(), min_size=1, max_size=12),
)
def test_streamed_screen_equals_loaded_screen(
    document: tuple[list[str], bool], sizes: list[int], refresh: list[bool]
) -> None:
    streamed_and_loaded(document, sizes, refresh)


@settings(max_examples=10 * EXAMPLES, deadline=timedelta(seconds=20), derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    document=table_documents,
    sizes=st.lists(st.integers(1, 24), min_size=1, max_size=12),
    refresh=st.lists(st.booleans(), min_size=1, max_size=12),
)
def test_streamed_tables_on_screen_equal_loaded_ones(
    document: tuple[list[str], bool], sizes: list[int], refresh: list[bool]
) -> None:
    """Mid-stream too: an open table's rows come in source order, none twice."""
    streamed_and_loaded(document, sizes, refresh)


def streamed_and_loaded(document: tuple[list[str], bool], sizes: list[int],
                        refresh: list[bool]) -> None:
    """``document`` streamed in pieces of ``sizes`` (the screen looked at where ``refresh``
    says), then loaded whole: see ``stream_and_load``."""
    text = build(*document)
    pieces = cuts(text, sizes)
    looks = [refresh[n % len(refresh)] for n in range(len(pieces))]
    asyncio.run(stream_and_load(text, pieces, looks))


@settings(max_examples=300 * EXAMPLES, deadline=timedelta(seconds=5), derandomize=True, database=None)
@given(document=documents, sizes=st.lists(st.integers(1, 12), min_size=1, max_size=12))
def test_streamed_blocks_equal_loaded_blocks(
    document: tuple[list[str], bool], sizes: list[int]
) -> None:
    """The same at the splitter, without an app: cheap, so many more documents."""
    assert_streamed_blocks_equal_loaded(build(*document), sizes)


@settings(max_examples=200 * EXAMPLES, deadline=timedelta(seconds=5), derandomize=True, database=None)
@given(document=table_documents, sizes=st.lists(st.integers(1, 24), min_size=1, max_size=12))
def test_streamed_tables_equal_loaded_tables(
    document: tuple[list[str], bool], sizes: list[int]
) -> None:
    """Tables taken row by row end, and show, as a whole parse has them."""
    assert_streamed_blocks_equal_loaded(build(*document), sizes)


def assert_streamed_blocks_equal_loaded(text: str, sizes: list[int]) -> None:
    whole = MarkdownSplitter()
    whole.feed(text)
    expected = [(b.kind, plain(b, w)) for b in whole.update(final=True) for w in WIDTHS]
    splitter = MarkdownSplitter()
    blocks = []
    for piece in cuts(text, sizes):
        splitter.feed(piece)
        blocks.extend(splitter.update())
        for number, block in splitter.revised:
            blocks[number] = block
    blocks.extend(splitter.update(final=True))
    for number, block in splitter.revised:
        blocks[number] = block
    assert [(b.kind, plain(b, w)) for b in blocks for w in WIDTHS] == expected
