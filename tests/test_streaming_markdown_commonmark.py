"""Streamed Markdown is held to the loaded rendering (one CommonMark parse), bug by bug.

Each test here reproduces a place where a reply streamed in pieces showed something other
than the same reply loaded whole (issue 13).
"""

from __future__ import annotations

import pytest
from textual.app import App

from tests.test_streaming_markdown import Host, plain, screen_lines, screen_text
from tui.core.literal import printable
from tui.ui.widgets.markdown_blocks import Block
from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.streaming_markdown import StreamingMarkdown


async def shown(pilot, widget: StreamingMarkdown, flushes: int) -> None:
    """Wait until the widget has updated after ``flushes`` updates, and the screen with it."""
    for _ in range(200):
        if widget.flush_count > flushes:
            break
        await pilot.pause(0.005)  # the pacing may hold the update back a frame or two
    assert widget.flush_count > flushes, "the widget never caught up with its text"
    await pilot.pause()


async def stream_chunks(pilot, widget: StreamingMarkdown, chunks: list[str]) -> list[str]:
    """Append each chunk and let the screen refresh after it; the screens seen."""
    widget.FLUSH_INTERVAL = 0
    screens = []
    for chunk in chunks:
        flushes = widget.flush_count
        widget.append(chunk)
        await shown(pilot, widget, flushes)
        screens.append(screen_text(pilot.app))
    return screens


async def streamed_and_loaded(chunks: list[str], size: tuple[int, int] = (60, 80)) -> tuple[str, str]:
    """The screen after streaming ``chunks`` (refreshing after each) and after loading them whole."""
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await stream_chunks(pilot, widget, chunks)
        widget.finish()
        await pilot.pause()
        streamed = screen_text(app)
        widget.set_text("".join(chunks))
        await pilot.pause()
        loaded = screen_text(app)
    return streamed, loaded


def split_blocks(chunks: list[str]) -> list[tuple[str, str]]:
    """What streaming ``chunks`` shows once finished (revised blocks in place)."""
    splitter = MarkdownSplitter()
    blocks: list[Block] = []
    for chunk in [*chunks, None]:
        if chunk is not None:
            splitter.feed(chunk)
        blocks.extend(splitter.update(final=chunk is None))
        for number, block in splitter.revised:
            blocks[number] = block
    return [(block.kind, plain(block)) for block in blocks]


def whole_blocks(text: str) -> list[tuple[str, str]]:
    """What loading ``text`` shows: one parse of the complete source."""
    splitter = MarkdownSplitter()
    splitter.feed(text)
    return [(block.kind, plain(block)) for block in splitter.update(final=True)]


# 1. A fence closed and the next opened in one update must not show the old fence's lines.

async def test_next_fence_opened_in_the_same_update_shows_its_own_lines() -> None:
    alpha = "".join(f"alpha{n}\n" for n in range(17))
    beta = "".join(f"beta{n}\n" for n in range(4, 21))
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(50, 90)) as pilot:
        await pilot.pause()
        screens = await stream_chunks(pilot, widget, [
            "```\n" + alpha,
            "```\n\nnext:\n\n```\nbeta1\nbeta2\nbeta3\n",
            beta,
        ])
        widget.append("```\n")
        widget.finish()
        await pilot.pause()
        streamed = screen_text(app)
        widget.set_text(widget.text)
        await pilot.pause()
        loaded = screen_text(app)
    both_open = screens[1]
    assert both_open.split().count("alpha0") == 1
    assert "beta1" in both_open and "beta3" in both_open
    long_open = screens[2]
    words = long_open.split()
    assert all(words.count(f"beta{n}") == 1 for n in range(1, 21)), long_open
    assert words.count("alpha0") == 1
    assert streamed == loaded


# 2. Reference definitions apply across blocks, in either order.

@pytest.mark.parametrize("chunks", [
    ["See [the docs][d] and [x].\n\n", "Middle paragraph.\n\n",
     "[d]: https://example.com/docs\n", "[x]: https://example.com/x\n"],
    ["[d]: https://example.com/docs\n\n", "Middle paragraph.\n\n",
     "See [the docs][d] and [x].\n\n", "[x]: https://example.com/x\n\nEnd.\n"],
])
async def test_reference_links_resolve_across_blocks(chunks: list[str]) -> None:
    streamed, loaded = await streamed_and_loaded(chunks)
    assert "See the docs and x." in loaded
    assert streamed == loaded


@pytest.mark.parametrize("chunks", [
    ["[Foo Bar]: /url\n\n", "para\n\n", "use [foo  bar] here\n\n", "tail\n"],
    ["use [foo\nbar] here\n\n", "para\n\n", "> [Foo Bar]: /url\n\n", "tail\n"],
])
def test_reference_definitions_apply_to_blocks_handed_out_before_and_after(
    chunks: list[str],
) -> None:
    assert split_blocks(chunks) == whole_blocks("".join(chunks))
    assert any(text.startswith("use foo") for _, text in split_blocks(chunks))


async def test_block_built_again_keeps_its_code_blocks_numbers() -> None:
    # The list is built again once [d] is defined; its code block was shown as #2 (the
    # first is above it) and showed up unnumbered after.
    chunks = ["```sh\necho one\n```\n\n", "- See [the docs][d]:\n\n  ```py\n  x = 1\n  ```\n\n",
              "Middle.\n\n", "[d]: https://example.com/docs\n\n", "End.\n"]
    streamed, loaded = await streamed_and_loaded(chunks)
    assert "#1 sh" in loaded and "#2 py" in loaded and "See the docs:" in loaded
    assert streamed == loaded


async def test_block_built_again_takes_its_new_height() -> None:
    # Raw, the first paragraph wraps onto two rows at this width; as a link it takes one.
    chunks = ["Read [the manual][manual-link-label].\n\n", "Next.\n\n", "More.\n\n",
              "[manual-link-label]: https://example.com/m\n"]
    streamed, loaded = await streamed_and_loaded(chunks, size=(30, 20))
    assert loaded.splitlines()[0] == "Read the manual."
    assert streamed == loaded


@pytest.mark.parametrize("text", [
    "[ref]:\n   /url\n   'a title'\n\nsee [ref]\n",
    "[ref]: /url\n'a title\nover two lines'\n[other]: /o\n  \"t\"\n\n[ref] and [other]\n",
    "[ref]: /first\n\n[ref]: /again\n'swallowed title'\n\n[ref]\n",
])
def test_definition_title_on_later_lines_is_not_cut_off(text: str) -> None:
    # Cut everywhere: a title line arriving after its definition looked complete.
    for size in range(1, 8):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert split_blocks(chunks) == whole_blocks(text), chunks
    assert "title" not in str(whole_blocks(text))


# 3. A table wider than the screen loses nothing.

WIDE = (
    "| " + " | ".join(f"head{n}" for n in range(1, 13)) + " |\n"
    + "|" + "---|" * 12 + "\n"
    + "".join("| " + " | ".join(f"r{r}c{n}" for n in range(1, 13)) + " |\n" for r in (1, 2))
)


@pytest.mark.parametrize("mode", ["stream", "load"])
async def test_wide_table_keeps_every_column(mode: str) -> None:
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(40, 80)) as pilot:
        await pilot.pause()
        if mode == "stream":
            await stream_chunks(pilot, widget, [WIDE[i : i + 9] for i in range(0, len(WIDE), 9)])
            widget.finish()
        else:
            widget.set_text(WIDE)
        await pilot.pause()
        lines = screen_lines(app)
    words = " ".join(lines).split()
    for n in range(1, 13):
        assert f"head{n}" in words
        assert f"r1c{n}" in words and f"r2c{n}" in words
    assert all(len(line) <= 40 for line in lines)


async def test_table_that_fits_keeps_its_grid() -> None:
    text = "| Name | Qty |\n|:-----|----:|\n| apple | 1 |\n| pear | 22 |\n"
    streamed, loaded = await streamed_and_loaded([text], size=(40, 20))
    assert streamed == loaded
    assert loaded.splitlines()[0].split() == ["Name", "│", "Qty"]
    assert "apple │   1" in loaded


# 4. Bidi controls and line/paragraph separators are shown, not obeyed.

BIDI = [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u2028", "\u2029"]


def test_bidi_controls_and_separators_become_visible() -> None:
    for char in BIDI:
        shown = printable(f"a{char}b")
        assert char not in shown and shown.startswith("a") and shown.endswith("b")
        assert len(shown) == 3
    assert printable("café ↔ עברית") == "café ↔ עברית"


@pytest.mark.parametrize("mode", ["stream", "load"])
async def test_bidi_controls_never_reach_the_terminal(mode: str) -> None:
    text = "".join(f"word{n}{char}" for n, char in enumerate(BIDI)) + "\n\n```\nx\u202ey\n```\n"
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        if mode == "stream":
            await stream_chunks(pilot, widget, [text[:7], text[7:30], text[30:]])
            widget.finish()
        else:
            widget.set_text(text)
        await pilot.pause()
        shown = "".join(s.text for strip in app.screen._compositor.render_strips() for s in strip)
    assert not set(BIDI) & set(shown)
    assert "word0" in shown and "word10" in shown


# 5. A table exists only once its delimiter row is complete.

def test_partial_delimiter_row_does_not_split_a_paragraph() -> None:
    chunks = ["Note\nx | y\n--|-", "-x\n"]
    assert split_blocks(chunks) == whole_blocks("".join(chunks))
    assert [kind for kind, _ in split_blocks(chunks)] == ["paragraph"]


async def test_partial_delimiter_row_on_screen() -> None:
    streamed, loaded = await streamed_and_loaded(["Note\nx | y\n--|-", "-x\n"])
    assert streamed == loaded == "Note x | y --|--x"


# 6. A blank last line inside a streamed code block is kept.

@pytest.mark.parametrize("text", ["```\ncode\n\n```\n", "```\ncode\n\n", "```\ncode\n\ntail"])
def test_blank_last_code_line_is_kept(text: str) -> None:
    chunks = ["```\n", text[4:]]  # the fence opens in one update, its lines come in the next
    assert split_blocks(chunks) == whole_blocks(text)


async def test_blank_last_code_line_on_screen() -> None:
    streamed, loaded = await streamed_and_loaded(["```\n", "code\n\n", "```\nafter\n"])
    assert streamed == loaded


# 7. Tabs inside an indented fence lose exactly the opener's indentation, in columns.

@pytest.mark.parametrize("text", ["  ```\n\tx\n \tb\n  ```\n", "   ```\n\t\tx\n  \t y\n   ```\n"])
def test_tab_indented_line_in_indented_fence(text: str) -> None:
    opener = text.index("\n") + 1
    assert split_blocks([text[:opener], text[opener:]]) == whole_blocks(text)


# 8. Empty replies and continuing a loaded message.

@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
async def test_empty_reply_is_as_tall_streamed_as_loaded(text: str) -> None:
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        widget.append(text)
        widget.finish()
        await pilot.pause()
        streamed = widget.outer_size.height
        widget.set_text(text)
        await pilot.pause()
        loaded = widget.outer_size.height
    assert streamed == loaded == 0


async def test_append_after_set_text_continues_the_message() -> None:
    widget = StreamingMarkdown()
    app: App[None] = Host(widget)
    async with app.run_test(size=(40, 10)) as pilot:
        widget.set_text("# Head\n\nHello")
        await pilot.pause()
        widget.FLUSH_INTERVAL = 0
        flushes = widget.flush_count
        widget.append(" world\n\nmore")
        assert widget.flush_count == flushes + 1, "the loaded text is shown again at once"
        await shown(pilot, widget, flushes + 1)
        assert "Hello world" in screen_text(app)
        widget.finish()
        await pilot.pause()
        assert widget.text == "# Head\n\nHello world\n\nmore"
        streamed = screen_text(app)
        widget.set_text(widget.text)
        await pilot.pause()
        assert screen_text(app) == streamed
