"""StreamingMarkdown: streamed == complete, finished blocks stay put, output is literal, work is bounded."""

from __future__ import annotations

import random

import pytest
from textual.app import App, ComposeResult
from textual.style import Style
from textual.visual import RenderOptions

from tests.test_app_support import wait_until
from tui.ui.widgets.markdown_blocks import Block, sanitize
from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.streaming_markdown import (
    BlockPage,
    LiteralText,
    MarkdownBlockView,
    StreamingMarkdown,
)

DOC = """# Title

Intro with *em*, **strong**, `code`, ~~gone~~ and a [link](https://example.com).
A soft break and [red]markup[/red] stays.

- one
- two
  - nested
- three

1. first
2. second

```python
def f(x):
    return x + 1
```

> quoted
> text

| Name | Qty |
|:-----|----:|
| a    | 1   |
| bb   | 22  |

---

Setext heading
--------------

    indented code

Last paragraph ends here.
"""

HOSTILE = (
    "Plain [red]x[/] and [bold]b[/bold] and \x1b[31mred\x1b[0m bell\x07 csi\x9b.\n\n"
    "```\n[blue]in code[/] \x1b[2J\n```\n\n"
    "| [i]h[/i] | \x1b[1mB |\n| - | - |\n| [u]c[/u] | d |\n"
)


class Host(App[None]):
    def __init__(self, widget: StreamingMarkdown | LiteralText) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def screen_lines(app: App[None]) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return [strip.text.rstrip() for strip in strips]


def screen_text(app: App[None]) -> str:
    return "\n".join(screen_lines(app)).rstrip()


def plain(block: Block, width: int = 60) -> str:
    """Text of a block rendered without an app (styles ignored)."""
    options = RenderOptions(lambda style: style if isinstance(style, Style) else Style(), {})
    strips = block.visual.render_strips(width, None, Style(), options)
    return "\n".join(strip.text.rstrip() for strip in strips)


def finished_pages(widget: StreamingMarkdown) -> list[BlockPage]:
    return list(widget.query(BlockPage))


def finished_kinds(widget: StreamingMarkdown) -> list[str]:
    """The kinds of a reply's finished blocks, in order (pages, then an adopted tail)."""
    kinds = [block.kind for page in finished_pages(widget) for block in page.blocks]
    return kinds + [view.kind for view in widget._views if isinstance(view, MarkdownBlockView)]


async def stream(pilot, widget: StreamingMarkdown, text: str, size: int, every: int = 20) -> None:
    """Append ``text`` in ``size`` pieces, letting the widget flush every ``every`` appends."""
    widget.FLUSH_INTERVAL = 0  # flush on the next pause: deterministic, no timers
    for n, start in enumerate(range(0, len(text), size)):
        widget.append(text[start : start + size])
        if n % every == 0:
            await pilot.pause()


async def shown_in_the_tail(pilot, widget: StreamingMarkdown, text: str) -> MarkdownBlockView:
    """Stream ``text`` unpaced and return the tail's view showing it (mounted, displayed)."""
    await pilot.pause()
    widget.FLUSH_INTERVAL = 0
    widget.append(text)
    await pilot.pause()
    tail = widget._live
    assert tail is not None and tail.is_mounted and tail.display
    return tail


@pytest.mark.parametrize("size", [1, 4, 13])
async def test_streamed_then_finished_matches_set_text(size: int) -> None:
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(70, 90)) as pilot:
        await stream(pilot, widget, DOC, size)
        widget.finish()
        await pilot.pause()
        streamed = screen_text(app)
        assert widget.text == DOC
        widget.set_text(DOC)
        await pilot.pause()
        complete = screen_text(app)
    assert streamed == complete
    for expected in ("Title", "nested", "def f(x):", "│ Qty", "Setext heading",
                     "indented code", "Last paragraph ends here.", "[red]markup[/red]"):
        assert expected in complete
    assert "```" not in complete and "**" not in complete


async def test_initial_text_is_shown_and_can_continue() -> None:
    widget = StreamingMarkdown("# Head\n\nfirst para")
    app = Host(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        assert "first para" in screen_text(app)
        widget.append(" continues\n\nsecond")
        widget.finish()
        await pilot.pause()
        text = screen_text(app)
    assert "first para continues" in text and "second" in text


async def test_code_block_waiting_in_the_tail_shows_its_number() -> None:
    # Closed in the same update as the text after it began, a code block waits in the tail
    # until that text's first line ends. It showed there unnumbered, for as long as the
    # stream paused (a snapshot test caught it about one run in fifteen).
    widget = StreamingMarkdown("")
    app = Host(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        widget.append("```sh\necho one\n```\n\nIntro\n\n```python\nx = 1\n```\n\nThen the text")
        await wait_until(pilot, lambda: "Then the text" in screen_text(app), what="the tail")
        assert widget._splitter.live is not None  # the case: the block is in the tail
        text = screen_text(app)
    assert "#1 sh" in text and "#2 python" in text


async def test_finished_blocks_are_drawn_once_on_pages() -> None:
    """A finished block goes to a page (one widget for up to PAGE_SIZE blocks); adding blocks
    to a page draws only them, never the ones it already shows."""
    widget = StreamingMarkdown()
    widget.TAIL_BLOCKS = 0  # each finished block goes to a page at once (tail_blocks)
    app = Host(widget)
    half = DOC.index("```python")
    async with app.run_test(size=(70, 90)) as pilot:
        await stream(pilot, widget, DOC[:half], 5, every=3)
        await pilot.pause()
        pages = finished_pages(widget)
        assert [len(page) for page in pages] == [3]  # the ordered list is still the live tail
        page = pages[0]
        draws = page.draws
        assert draws >= 3
        await stream(pilot, widget, DOC[half:], 5, every=3)
        widget.finish()
        await pilot.pause()
        after = finished_pages(widget)
        assert after[0] is page
        added = len(page) - 3
        assert added > 0
        assert page.draws == draws + added, "each block added was drawn once, the others never again"
        assert len(widget.children) < len(widget._views), "fewer widgets than blocks"


async def test_throttle_coalesces_appends_and_finish_is_immediate() -> None:
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 40)) as pilot:
        await pilot.pause()
        for char in DOC:
            widget.append(char)
        assert widget.flush_count == 0  # appends only queue text
        widget.finish()
        assert widget.flush_count == 1
        assert widget.splitter.live is None and widget.splitter.fence is None
        await pilot.pause()
        assert "Last paragraph ends here." in screen_text(app)
        with pytest.raises(RuntimeError):
            widget.append("more")


async def test_slow_frames_space_out_updates_within_bounds() -> None:
    """Backpressure: updates are spaced by what the last one cost to lay out and paint."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        pacer = widget.pacer
        measured: list[float] = []
        spent = pacer.spent

        def record(wall: float, cpu: float, interval: float) -> None:
            measured.append(wall)
            spent(wall, cpu, interval)

        pacer.spent = record  # type: ignore[method-assign]
        widget.append("# Heading\n\nsome text")
        await pilot.pause(0.1)
        assert widget.flush_count == 1
        interval = StreamingMarkdown.FLUSH_INTERVAL
        # The update's real cost spaced the next ones (whatever this machine's load made
        # it: a wall-time bound here failed once in the full suite).
        [wall] = measured
        assert wall > 0
        assert pacer.spacing == pytest.approx(min(0.25, max(interval, wall / 0.5)))
        pacer.spent(0.08, 0.0, interval)
        assert pacer.spacing == pytest.approx(0.16)
        pacer.spent(5.0, 0.0, interval)
        assert pacer.spacing == pacer.max_spacing
        pacer.spent(0.0, 0.0, interval)
        assert pacer.spacing == interval


async def test_a_spent_credit_holds_updates_back_but_never_the_final_one() -> None:
    """A slow stream is redrawn as often as its text pays for; its end shows at once."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        widget.append("first words")
        await pilot.pause(0.1)
        assert widget.flush_count == 1 and "first words" in screen_text(app)
        widget.pacer.credit = -1.0  # redrawing has cost more than the text so far earned
        widget.append(" and more")
        await pilot.pause(0.1)
        assert widget.flush_count == 1, "held back (up to max_stale) while the credit is spent"
        assert "and more" not in screen_text(app)
        widget.append(" and the end.")
        widget.finish()
        assert widget.flush_count == 2
        await pilot.pause()
        assert "first words and more and the end." in screen_text(app)


@pytest.mark.parametrize("mode", ["stream", "set_text"])
async def test_markup_and_escape_sequences_are_literal(mode: str) -> None:
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(70, 30)) as pilot:
        if mode == "stream":
            await stream(pilot, widget, HOSTILE, 3)
            widget.finish()
        else:
            widget.set_text(HOSTILE)
        await pilot.pause()
        text = screen_text(app)
        segments = [
            segment.text for strip in app.screen._compositor.render_strips() for segment in strip
        ]
    assert "[red]x[/]" in text and "[bold]b[/bold]" in text
    assert "␛[31mred␛[0m" in text and "bell␇" in text
    assert "[blue]in code[/] ␛[2J" in text
    assert "[i]h[/i]" in text and "␛[1mB" in text
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for s in segments for char in s)


async def test_literal_text_shows_user_messages_verbatim() -> None:
    message = "[bold]not bold[/bold] \x1b[31m $HOME *not em*\r\nnext"
    widget = LiteralText(message)
    app = Host(widget)
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
    assert lines[0] == "[bold]not bold[/bold] ␛[31m $HOME *not em*"
    assert lines[1] == "next"
    assert widget.text == message


async def test_fence_spanning_many_appends_is_one_code_block() -> None:
    code = "\n".join(f"value_{n} = {n} * 2  # line {n}" for n in range(60))
    text = f"Before.\n\n```python\n{code}\n```\n\nAfter.\n"
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(70, 90)) as pilot:
        start = text.index("```python")
        await stream(pilot, widget, text[: start + 700], 7, every=8)
        await pilot.pause()
        fence = widget.splitter.fence
        assert fence is not None
        # Finished lines of the open fence are frozen in chunks, one live remainder below.
        pieces = widget.query(".-fence > MarkdownBlockView")
        assert len(pieces) == len(fence.chunks) + 1 >= 2
        frozen = list(pieces)[0]
        parsed_max_in_fence = widget.splitter.parsed_chars_max
        flushes = widget.flush_count
        await stream(pilot, widget, text[start + 700 :], 7, every=8)
        assert widget.flush_count - flushes >= 15
        widget.finish()
        await pilot.pause()
        assert frozen.render_count == 1  # highlighted and laid out once while the fence grew
        kinds = finished_kinds(widget)
        text_on_screen = screen_text(app)
    assert kinds == ["paragraph", "code", "paragraph"]
    assert "value_0 = 0 * 2" in text_on_screen and "value_59 = 59 * 2" in text_on_screen
    assert "```" not in text_on_screen
    # Inside the open fence only a bounded remainder is ever re-processed.
    assert parsed_max_in_fence < 1500


def test_open_fence_is_scanned_not_reparsed() -> None:
    splitter = MarkdownSplitter()
    splitter.feed("```py\n")
    splitter.update()
    line = "x = 1  # some code that is long enough\n"
    for _ in range(500):
        for start in range(0, len(line), 4):
            splitter.feed(line[start : start + 4])
            splitter.update()
    assert splitter.fence is not None
    # Each update touches at most one chunk of lines plus the new text.
    assert splitter.parsed_chars_max <= (MarkdownSplitter.CHUNK_LINES + 1) * len(line)
    assert len(splitter.fence.chunks) == 500 // MarkdownSplitter.CHUNK_LINES
    blocks = splitter.update(final=True)
    assert [block.kind for block in blocks] == ["code"]
    assert plain(blocks[0]).count("x = 1") == 500


def test_an_open_table_is_parsed_a_row_at_a_time_not_whole() -> None:
    """A 150-row table used to be parsed whole with every update (~7 ms each, ~14 ms for
    the last one, after the last byte): now each row once, behind its header."""
    splitter = MarkdownSplitter()
    splitter.feed("Here:\n\n| n | name | note |\n|---|:-:|--:|\n")
    splitter.update()
    row = "| {n} | item number {n} | some text in the last column {n} |\n"
    source = "".join(row.format(n=n) for n in range(150))
    for start in range(0, len(source), 6):
        splitter.feed(source[start : start + 6])
        splitter.update()
        assert splitter.live is not None and splitter.live.kind == "table"
    assert splitter.table is not None and len(splitter.table.rows) == 150
    head = len("| n | name | note |\n|---|:-:|--:|\n")
    assert splitter.parsed_chars_max <= head * 2 + 2 * len(row.format(n=149))
    splitter.feed("\nThat is all.")
    (table,) = splitter.update()
    assert splitter.parsed_chars_last < 200  # the end is known from the new line alone
    assert plain(table).count("item number") == 150
    whole = MarkdownSplitter()
    whole.feed("| n | name | note |\n|---|:-:|--:|\n" + source)
    assert plain(table) == plain(whole.update(final=True)[0])


def test_per_update_work_is_bounded_by_tail_not_document() -> None:
    section = (
        "## Heading\n\nA paragraph of ordinary prose that goes on for a while, "
        "with `code` and *emphasis*.\n\n- item\n- item\n  - nested\n\n"
        "```bash\necho one\necho two\n```\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n"
    )

    def run(copies: int) -> MarkdownSplitter:
        document = section * copies
        splitter = MarkdownSplitter()
        for start in range(0, len(document), 4):
            splitter.feed(document[start : start + 4])
            splitter.update()
        splitter.update(final=True)
        return splitter

    short, long = run(20), run(80)
    # Per update: at most the unfinished tail (about one section), however long the document.
    assert long.parsed_chars_max < 2 * len(section)
    assert long.parsed_chars_max <= short.parsed_chars_max * 1.5
    # In total: linear in the document, not quadratic.
    assert long.parsed_chars_total < 4.4 * short.parsed_chars_total


TRICKY = [
    "foo\n#bar\n\nnext\n",  # '#' alone would be an empty heading
    "foo\n***bold***\n\nafter\n",  # '***' alone would be a rule
    "para\n---\n\n- a\n\n- b\n\n  still b\n\nout\n",  # setext, loose list
    "```\nunclosed fence\n\n# not a heading\n",
    "~~~~\ncode\n~~~\nstill code\n~~~~~\ntext\n",  # shorter closer does not close
    "> quote\nlazy line\n\n1. one\n2. two\n\n| a | b |\n| - | - |\n| 1 | 2 |\n",
    "line one\r\nline two\r\n\r\n    code\r\n",
]


@pytest.mark.parametrize("source", TRICKY)
def test_random_splits_give_the_same_blocks_as_one_parse(source: str) -> None:
    whole = MarkdownSplitter()
    whole.feed(source)
    expected = [(block.kind, plain(block)) for block in whole.update(final=True)]
    rng = random.Random(source)
    for _ in range(25):
        splitter = MarkdownSplitter()
        blocks: list[Block] = []
        position = 0
        while position < len(source):
            step = rng.randint(1, 6)
            splitter.feed(source[position : position + step])
            position += step
            blocks.extend(splitter.update())
        blocks.extend(splitter.update(final=True))
        assert [(block.kind, plain(block)) for block in blocks] == expected


def test_sanitize_replaces_control_characters() -> None:
    assert sanitize("a\x1b[0m\tb\nc\x00\x7f\x85") == "a␛[0m\tb\nc␀␡\ufffd"


SMALL_PAGE = 16
"""Blocks per page in the tests that fill one (a full page then fits on their screen)."""

FULL_PAGE = "".join(f"Intro {n}.\n\n" for n in range(SMALL_PAGE))
"""A full page of finished blocks (of a widget whose PAGE_SIZE is SMALL_PAGE): the text
after it, leaving the tail, starts a new page."""


def unpaced_with_small_pages() -> StreamingMarkdown:
    """A widget that updates on the next loop turn, with pages of SMALL_PAGE blocks."""
    widget = StreamingMarkdown()
    widget.FLUSH_INTERVAL = 0
    widget.PAGE_SIZE = SMALL_PAGE
    return widget


@pytest.mark.parametrize(("before", "end", "expected"), [
    ("the paragraph shown last\n", "\nthe end", "shown last\n\nthe end"),
    ("```python\nx = 1\n", "y = 2\n```", "y = 2"),
])
async def test_no_frame_lacks_text_already_shown_when_a_reply_ends(before: str, end: str,
                                                                   expected: str) -> None:
    """Text leaving the tail (or an open fence) for views of its own at a reply's end must
    not vanish for a frame while those mount (a few loop turns: Textual paints no unmounted
    widget). This showed a reply's last words a frame late, after a frame without them."""
    widget = unpaced_with_small_pages()
    app = Host(widget)
    async with app.run_test(size=(60, 60)) as pilot:
        await pilot.pause()
        widget.append(FULL_PAGE + before)
        await pilot.pause()
        assert before.split()[-1] in screen_text(app)
        widget.append(end)
        widget.finish()
        unmounted = [node for node in widget.walk_children() if not node.is_mounted]
        assert unmounted, "the case under test: the text moved into new views"
        assert app._batch_count > 0, "the screen could paint without the reply's end"
        await pilot.pause()
        assert app._batch_count == 0, "the hold ends once the views have mounted"
        assert expected in screen_text(app)


async def test_the_final_update_keeps_the_last_block_in_the_view_on_screen() -> None:
    """The reply's last block stays in the tail's view, already mounted: its end shows in
    the very next frame, without waiting for a view to mount."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        tail = await shown_in_the_tail(pilot, widget, "# Head\n\nthe last paragraph, so far")
        widget.append(" and its end.")
        widget.finish()
        assert widget._live is None and not tail.has_class("-live")
        assert tail.kind == "paragraph" and tail.is_mounted
        assert tail in widget._views, "it is the last finished block's view now"
        await pilot.pause()
        assert "the last paragraph, so far and its end." in screen_text(app)
        widget.set_text(widget.text)
        await pilot.pause()
        assert "the last paragraph, so far and its end." in screen_text(app)


def test_a_growing_table_lays_out_only_its_new_rows(monkeypatch) -> None:
    """A streaming table is drawn again with every update; its rows come back as the same
    cells (``OpenTable``), so only a row not seen before (at the same widths) is wrapped
    and padded, and only its lines are converted to strips."""
    from tui.ui.widgets import markdown_layout, markdown_table

    drawn: list[int] = []
    converted: list[int] = []
    draw_row, content_strip = markdown_table._draw_row, markdown_table.content_strip
    monkeypatch.setattr(markdown_table, "_draw_row",
                        lambda *args: drawn.append(1) or draw_row(*args))
    monkeypatch.setattr(markdown_table, "content_strip",
                        lambda *args: converted.append(1) or content_strip(*args))
    splitter = MarkdownSplitter()
    splitter.feed("| n | name |\n|---|---|\n" + "".join(f"| {n} | row {n} |\n" for n in range(20)))
    splitter.update()
    assert splitter.live is not None
    first = plain(splitter.live)
    drawn.clear()
    converted.clear()
    splitter.feed("| 20 | row 20 |\n")
    splitter.update()
    second = plain(splitter.live)
    assert len(drawn) == 1, "only the new row is drawn"
    assert len(converted) == 2, "its line and the rule under the header (new each time)"
    assert second.startswith(first) and second.endswith("20 │ row 20")
    assert markdown_layout.content_strip is content_strip


def test_table_cells_with_the_same_words_keep_their_own_styles() -> None:
    """``Content`` compares by text alone: a cache keyed by it drew ``**a**`` as ``a``."""
    splitter = MarkdownSplitter()
    splitter.feed("| x | y |\n|---|---|\n| a | b |\n| **a** | b |\n")
    (table,) = splitter.update(final=True)
    visual = table.visual
    lines = visual._lines(40)
    plain_row, bold_row = lines[2][0], lines[3][0]
    assert plain_row.plain == bold_row.plain
    assert plain_row.spans != bold_row.spans, "the bold cell was drawn as the plain one"


async def test_the_tail_view_is_hidden_between_blocks_not_mounted_again() -> None:
    """When a block ends and the next has not begun (a code block just closed), the tail is
    empty for an update: its view is hidden and shown again, not removed and mounted anew
    (two more layouts of the screen each time)."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        tail = await shown_in_the_tail(pilot, widget, "A paragraph")
        widget.append(".\n\n```python\nx = 1\n```\n\n")
        await pilot.pause()
        assert widget.splitter.live is None, "the case under test: nothing in the tail"
        assert widget._live is tail and not tail.display
        widget.text_select_all()  # a triple click selects all of a message's widgets
        copied = app.screen.get_selected_text()
        assert copied is not None and copied.count("A paragraph") == 1, \
            "the hidden tail still holds text now shown on a page: it copies nothing"
        app.screen.clear_selection()
        widget.append("After the code.")
        await pilot.pause()
        assert widget._live is tail and tail.display
        assert "After the code." in screen_text(app)
        widget.finish()
        await pilot.pause()
        text = screen_text(app)
    assert "A paragraph." in text and "x = 1" in text and "After the code." in text


async def test_a_frame_hold_ends_even_when_its_task_is_cancelled_before_it_ran() -> None:
    """A reply's end waits at most FINAL_FRAME_WAIT for its last frame; giving up could
    cancel the hold's task before it first ran, so its ``finally`` never ended the batch
    and the screen never painted again (seen as a rare Ctrl+R retry that never showed)."""
    from textual.widgets import Static

    from tui.ui.widgets.stream_pace import MountHolds

    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        holds = MountHolds(5.0)
        holds.hold(widget, [Static("never mounted")])
        assert app._batch_count > 0
        (task,) = holds._tasks.values()
        task.cancel()  # before it ever ran
        await pilot.pause()
        assert app._batch_count == 0, "the screen paints again"
        assert not holds._tasks


async def test_giving_up_on_painted_leaves_the_hold_running() -> None:
    """``painted()`` given up on (wait_for) must not end the hold early: the hold is what
    keeps a frame without the reply's last words off the screen."""
    import asyncio

    from textual.widgets import Static

    from tui.ui.widgets.stream_pace import MountHolds

    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        holds = MountHolds(5.0)
        holds.hold(widget, [Static("never mounted")])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(holds.wait(), 0.05)
        assert app._batch_count > 0 and len(holds) == 1, "still held"
        holds.release()
        await pilot.pause()
        assert app._batch_count == 0



def test_cached_table_strips_follow_the_theme() -> None:
    """The strips of a table's lines are cached across updates, but not across themes."""
    from textual.color import Color
    from textual.visual import RenderOptions

    from tui.ui.widgets.markdown_table import _line_strips

    splitter = MarkdownSplitter()
    splitter.feed("| x | y |\n|---|---|\n| a | b |\n")
    (table,) = splitter.update(final=True)
    lines = table.visual._lines(30)

    def theme(color: str) -> RenderOptions:
        def get_style(text: str | Style) -> Style:
            if isinstance(text, Style):
                return text
            return Style(foreground=Color.parse(color)) if "$" in text else Style.parse(text)
        return RenderOptions(get_style, {})

    red = _line_strips(lines, 30, Style(), theme("red"))
    blue = _line_strips(lines, 30, Style(), theme("blue"))
    assert [strip.text for strip in red] == [strip.text for strip in blue]
    assert red[0] != blue[0], "a strip drawn for the old theme was reused"
    assert _line_strips(lines, 30, Style(), theme("red"))[0] is red[0]


def test_a_table_that_could_reach_the_parsers_cell_cap_is_parsed_whole(monkeypatch) -> None:
    """markdown-it stops a table once it has filled in 65,536 missing cells, counted over the
    whole table: parsed a row at a time it could not know, so such a table is parsed whole."""
    from tui.ui.widgets import markdown_open_blocks

    monkeypatch.setattr(markdown_open_blocks, "cell_cap", lambda: 12)
    source = "| a | b | c |\n|---|---|---|\n" + "".join(f"| {n} |\n" for n in range(8)) + "\nafter\n"
    splitter = MarkdownSplitter()
    blocks = []
    for start in range(0, len(source), 5):
        splitter.feed(source[start : start + 5])
        blocks.extend(splitter.update())
    blocks.extend(splitter.update(final=True))
    assert splitter.table is None and splitter._whole_tables
    whole = MarkdownSplitter()
    whole.feed(source)
    assert [plain(b) for b in blocks] == [plain(b) for b in whole.update(final=True)]


async def test_a_streaming_reply_draws_no_lines_of_its_own() -> None:
    """Its views draw the text; Textual repeats one blank line for the widget itself
    (``BLANK``) while it streams, and styles the rows of a complete message it draws."""
    reply = StreamingMarkdown()
    reply.FLUSH_INTERVAL = 0
    app = Host(reply)
    async with app.run_test(size=(60, 20)) as pilot:
        reply.append("Streaming *now*.\n\nMore")
        await pilot.pause()
        assert reply.BLANK
        assert "Streaming now." in screen_text(app)
        reply.set_text("Stored **whole**.")
        await pilot.pause()
        assert not reply.BLANK
        assert "Stored whole." in screen_text(app)
        reply.append(" And continued.")
        await pilot.pause()
        await pilot.pause()
        assert reply.BLANK
        assert "Stored whole. And continued." in screen_text(app)


async def test_an_update_that_mounts_views_is_laid_out_once_they_have_mounted() -> None:
    """An update that opens a code block mounts views for it, which Textual lays out again
    once they have mounted. The screen waits for them, so the update costs one layout and
    paint, not two (the first without the new views), and the pacer is charged for it after
    that frame. Before, a third of the redraw CPU at 200 tok/s was that second frame, and
    the pacer, charged after the first, allowed more updates than its budget."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 30)) as pilot:
        await shown_in_the_tail(pilot, widget, "A paragraph")
        widget.HOLD_SPACING = 0  # however soon after the update before
        compositor = app.screen._compositor
        original = compositor.reflow
        laid_out: list[bool] = []  # at each layout: had every view of the reply mounted?

        def reflow(*args, **kwargs):
            laid_out.append(all(node.is_mounted for node in widget.walk_children()))
            return original(*args, **kwargs)

        compositor.reflow = reflow  # type: ignore[method-assign]
        charged: list[bool] = []
        widget.pacer.spent = lambda *_: charged.append(bool(laid_out))  # type: ignore[method-assign]
        widget.append(".\n\n```python\nx = 1\n")
        for _ in range(6):
            await pilot.pause()
        assert widget._fence_view is not None and widget._fence_view.is_mounted
        assert "x = 1" in screen_text(app)
    assert laid_out and all(laid_out), "the screen was laid out before the views mounted"
    assert charged == [True], "charged once, after the update's frame"


async def test_an_update_that_removes_a_view_is_laid_out_once_it_has_gone() -> None:
    """Closing a code block removes its streaming view; the screen waits for the removal
    (after which Textual lays the reply out again) instead of painting in between."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        widget.FLUSH_INTERVAL = 0
        widget.HOLD_SPACING = 0
        widget.append("A paragraph.\n\n```python\nx = 1\n")
        for _ in range(4):
            await pilot.pause()
        fence = widget._fence_view
        assert fence is not None and fence.is_mounted
        compositor = app.screen._compositor
        original = compositor.reflow
        fence_attached: list[bool] = []

        def reflow(*args, **kwargs):
            fence_attached.append(fence.is_attached)
            return original(*args, **kwargs)

        compositor.reflow = reflow  # type: ignore[method-assign]
        widget.append("```\n\nAfter the code.")
        for _ in range(6):
            await pilot.pause()
        assert widget._fence_view is None
        assert "After the code." in screen_text(app) and "x = 1" in screen_text(app)
    assert fence_attached and not any(fence_attached), \
        "the screen was laid out while the closed block's view was still being removed"


async def test_updates_close_together_do_not_hold_the_screen() -> None:
    """In a fast stream the screen is not held for new views (keys typed meanwhile would
    wait for them); the update's cost is taken after the frame that follows the mount."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 30)) as pilot:
        await shown_in_the_tail(pilot, widget, "A paragraph")
        widget.HOLD_SPACING = 60.0
        charged: list[bool] = []
        widget.pacer.spent = lambda *_: charged.append(  # type: ignore[method-assign]
            widget._fence_view is not None and widget._fence_view.is_mounted)
        widget.append(".\n\n```python\nx = 1\n")
        widget._flush()
        assert widget._pending_views(), "the case under test: the update mounts views"
        assert app._batch_count == 0, "the screen was held"
        for _ in range(6):
            await pilot.pause()
        assert "x = 1" in screen_text(app)
    assert charged and all(charged), "charged after the frame that followed the mount"


async def test_an_update_of_several_views_is_laid_out_once() -> None:
    """An update that adds a finished block to a page and grows the tail asks both views
    for a layout. Textual passes each request to the screen when its widget next goes idle,
    and the screen painted on its timer after the first: a second layout followed half the
    updates at 200 tok/s (a pty census; headless, the timer rarely comes first). The
    requests now go at once, and the screen waits until it has read them."""
    widget = StreamingMarkdown()
    widget.TAIL_BLOCKS = 0  # each finished block goes to a page at once (tail_blocks)
    app = Host(widget)
    async with app.run_test(size=(60, 30)) as pilot:
        await shown_in_the_tail(pilot, widget, "First paragraph.\n\nSecond")
        widget.append(" paragraph.\n\nThird")
        for _ in range(4):
            await pilot.pause()
        assert finished_pages(widget), "the case under test: a page to add to"
        widget.HOLD_SPACING = 0
        compositor = app.screen._compositor
        original = compositor.reflow
        layouts: list[int] = []

        def reflow(*args, **kwargs):
            layouts.append(len(finished_pages(widget)[0].blocks))
            return original(*args, **kwargs)

        compositor.reflow = reflow  # type: ignore[method-assign]
        for n in range(5):
            layouts.clear()
            widget.append(f" paragraph {n}.\n\nNext one, longer than a line of the screen "
                          f"so that the tail grows as the page does ({n})")
            widget._flush()
            # Right after the update: every request is on its way to the screen (none left
            # to the views' idle turns), and the screen is held until it has read them.
            views = [widget, *widget.children]
            assert not any(view._layout_required for view in views)
            assert app._batch_count == 1
            for _ in range(8):
                await pilot.pause()
            assert app._batch_count == 0
            assert len(layouts) == 1, f"update {n}: {len(layouts)} layouts"
            assert f"paragraph {n}." in screen_text(app)


@pytest.mark.parametrize("new_view", [False, True])
async def test_a_replys_end_is_painted_once_its_hold_ends_not_on_the_next_tick(
        new_view: bool) -> None:
    """The screen paints on a timer (60 a second); the reply's last update is laid out and
    painted as soon as its hold ends (``paint_now``), held for new views to mount or not.
    Waiting for the tick put the last words up to 17 ms later."""
    widget = unpaced_with_small_pages()
    app = Host(widget)
    async with app.run_test(size=(60, 60)) as pilot:
        await pilot.pause()
        widget.append((FULL_PAGE + "the paragraph shown last\n") if new_view else "Some words.")
        await pilot.pause()
        screen = app.screen
        assert screen._update_timer  # the timer holds the tick it was made with
        painted_at_once: list[str] = []
        tick = screen._on_timer_update

        def direct() -> None:
            painted_at_once.append(widget.text)
            tick()

        screen._on_timer_update = direct  # type: ignore[method-assign]
        widget.append("\nthe end" if new_view else " The last words.")
        widget.finish()
        await widget.painted()
        assert painted_at_once, "painted when the hold ended"
        assert ("the end" if new_view else "The last words.") in screen_text(app)
