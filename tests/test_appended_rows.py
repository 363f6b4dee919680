"""A page of a streaming reply keeps the rows Textual drew of it when a block comes below
them (tui/ui/widgets/appended_rows.py), and draws them all again on any other change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot

from tui.ui.widgets.markdown_blocks import Block
from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.markdown_views import BlockPage

FIRST = ("A paragraph long enough to wrap over a few rows of a narrow page, so that the "
         "page has rows worth keeping.\n\n- one item\n- two items\n\n> a quote\n")
MORE = "# A heading\n\nMore text below it, with `code` and **bold**.\n"


def blocks(text: str) -> list[Block]:
    splitter = MarkdownSplitter()
    splitter.feed(text)
    return list(splitter.update(final=True))


class PageHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.page = BlockPage(first=True)

    def compose(self) -> ComposeResult:
        yield self.page


class Drawn:
    """Rows of a widget drawn through Textual's line path (its ``render_line``)."""

    def __init__(self, widget: BlockPage) -> None:
        self.rows: list[int] = []
        original = widget.render_line

        def render_line(y: int):
            self.rows.append(y)
            return original(y)

        widget.render_line = render_line  # type: ignore[method-assign]


@asynccontextmanager
async def page_showing(text: str) -> AsyncIterator[tuple[Pilot, BlockPage]]:
    """A page showing the blocks of ``text``, laid out and painted."""
    app = PageHost()
    async with app.run_test(size=(40, 40)) as pilot:
        app.page.add(blocks(text))
        await pilot.pause()
        yield pilot, app.page


def shown_and_textuals(page: BlockPage) -> tuple[list[list], list[list]]:
    """The rows the screen got for ``page``, and the rows Textual draws of it anew."""
    region = Region(0, 0, page.size.width, page.size.height)
    shown = [list(strip) for strip in page.render_lines(region)]
    page._styles_cache.clear()
    return shown, [list(strip) for strip in page.render_lines(region)]


async def test_a_block_added_below_draws_only_the_rows_below() -> None:
    async with page_showing(FIRST) as (pilot, page):
        before = page.size.height
        assert before >= 6
        drawn = Drawn(page)
        page.add(blocks(MORE))
        await pilot.pause()
        assert page.size.height > before
        assert drawn.rows and min(drawn.rows) >= before, drawn.rows
        shown, textuals = shown_and_textuals(page)
        assert shown == textuals


async def test_a_block_built_again_draws_every_row() -> None:
    async with page_showing(FIRST + "\n" + MORE) as (pilot, page):
        drawn = Drawn(page)
        page.replace(0, blocks("Another first paragraph.\n")[0])
        await pilot.pause()
        assert 0 in drawn.rows
        shown, textuals = shown_and_textuals(page)
        assert shown == textuals
        assert "Another first" in "".join(segment.text for segment in shown[0])


async def test_a_repaint_asked_elsewhere_or_a_new_width_draws_every_row() -> None:
    async with page_showing(FIRST) as (pilot, page):
        drawn = Drawn(page)
        page.add(blocks(MORE))
        page.refresh()  # e.g. a selection changed meanwhile: nothing is kept
        await pilot.pause()
        assert 0 in drawn.rows
        drawn.rows.clear()
        page.add(blocks("One more paragraph.\n"))
        await pilot.resize_terminal(30, 40)
        await pilot.pause()
        assert 0 in drawn.rows
        shown, textuals = shown_and_textuals(page)
        assert shown == textuals
