"""Finished blocks wait in a streaming reply's tail until a layout comes anyway (tail_blocks)."""

from __future__ import annotations

from tests.test_streaming_markdown import (
    Host,
    finished_pages,
    screen_text,
    shown_in_the_tail,
)
from tui.ui.widgets.streaming_markdown import StreamingMarkdown


def count_layouts(app) -> list[int]:
    """A list that grows by one each time the screen is laid out."""
    compositor = app.screen._compositor
    original = compositor.reflow
    layouts: list[int] = []

    def reflow(*args, **kwargs):
        layouts.append(1)
        return original(*args, **kwargs)

    compositor.reflow = reflow  # type: ignore[method-assign]
    return layouts


async def loaded_text(text: str, size: tuple[int, int]) -> str:
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=size) as pilot:
        widget.set_text(text)
        await pilot.pause()
        return screen_text(app)


async def test_a_block_that_ends_stays_in_the_tail_without_a_layout() -> None:
    # Moved to a page, the block that ended grew the page and shrank the tail: a layout of
    # the screen for text that did not move (24 of 55 layouts of a reply at 20 tok/s).
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 100)) as pilot:  # blank rows for ten rows of text
        start = "First paragraph.\n\nSecond paragraph.\n\nThird"
        await shown_in_the_tail(pilot, widget, start)
        pages = finished_pages(widget)
        assert [len(page) for page in pages] == [1]  # the tail had no view to keep it yet
        layouts = count_layouts(app)
        widget.append(" paragraph.\n\nFourth")
        for _ in range(4):
            await pilot.pause()
        assert "Second paragraph.\n\nThird paragraph.\n\nFourth" in screen_text(app)
        assert [block.kind for block in widget._kept] == ["paragraph"]
        assert [len(page) for page in finished_pages(widget)] == [1]
        assert layouts == [], "the update repainted the tail's view alone"


async def test_kept_blocks_go_to_a_page_when_the_tail_outgrows_its_rows() -> None:
    text = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n\nFourth paragraph.\n\n"
    text += "\n\n".join(f"Paragraph {n}, long enough to wrap onto a second row of this narrow "
                        "screen." for n in range(6))
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(40, 40)) as pilot:
        start = "First paragraph.\n\nSecond paragraph.\n\nThird"
        await shown_in_the_tail(pilot, widget, start)
        widget.append(" paragraph.\n\nFourth")
        await pilot.pause()
        assert widget._kept, "the case under test: a block kept in the tail"
        kept = list(widget._kept)
        widget.append(text[len(start + " paragraph.\n\nFourth"):])
        await pilot.pause()
        await pilot.pause()
        assert not set(map(id, kept)) & set(map(id, widget._kept)), "moved on with the layout"
        on_pages = [block for page in finished_pages(widget) for block in page.blocks]
        assert all(block in on_pages for block in kept)
        widget.finish()
        await pilot.pause()
        streamed = screen_text(app)
    assert streamed == await loaded_text(text, (40, 40))


async def test_the_tail_keeps_at_most_tail_blocks() -> None:
    widget = StreamingMarkdown()
    widget.TAIL_BLOCKS = 2
    app = Host(widget)
    async with app.run_test(size=(60, 100)) as pilot:  # blank rows for ten rows of text
        await shown_in_the_tail(pilot, widget, "P0.\n\nP1")
        kept_sizes = []
        for n in range(1, 6):
            widget.append(f".\n\nP{n + 1}")
            await pilot.pause()
            kept_sizes.append(len(widget._kept))
        assert max(kept_sizes) == 2 and 0 in kept_sizes[1:]
        widget.finish()
        await pilot.pause()
        assert not widget._kept
        text = screen_text(app)
    assert text == "\n\n".join(f"P{n}." for n in range(7))[:-1]
