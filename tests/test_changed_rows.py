"""A view given new content of the same height repaints only the rows that changed
(tui/ui/widgets/changed_rows.py); the screen shows what Textual itself would draw."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App, ComposeResult
from textual.content import Content
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip

from tui.ui.widgets.changed_rows import changed_span
from tui.ui.widgets.markdown_views import MarkdownBlockView

TEXT = ("A paragraph that streams in, long enough to wrap over several rows of a narrow "
        "view, one word at a time")


def strips(*texts: str) -> list[Strip]:
    return [Strip.blank(0) if not text else Strip([*Content(text).render_segments()])
            for text in texts]


def test_the_span_runs_from_the_first_row_that_differs_to_the_last() -> None:
    assert changed_span(strips("a", "b", "c"), strips("a", "b", "c")) is None
    assert changed_span(strips("a", "b", "c"), strips("a", "b", "d")) == (2, 3)
    assert changed_span(strips("a", "b", "c"), strips("x", "b", "c")) == (0, 1)
    assert changed_span(strips("a", "b", "c", "d"), strips("a", "x", "c", "y")) == (1, 4)
    assert changed_span(strips("a", "b"), strips("a", "b", "c")) == (2, 3)
    assert changed_span(strips("a", "b", "c"), strips("a")) == (1, 3)
    assert changed_span([], []) is None


class ViewHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.view = MarkdownBlockView()

    def compose(self) -> ComposeResult:
        yield self.view


class Drawn:
    """Rows of a widget drawn through Textual's line path (its ``render_line``)."""

    def __init__(self, widget: MarkdownBlockView) -> None:
        self.rows: list[int] = []
        original = widget.render_line

        def render_line(y: int) -> Strip:
            self.rows.append(y)
            return original(y)

        widget.render_line = render_line  # type: ignore[method-assign]


@asynccontextmanager
async def view_showing(text: str, rows: int) -> AsyncIterator[tuple[Pilot, MarkdownBlockView]]:
    """A 30-column view showing ``text`` in at least ``rows`` rows, laid out and painted."""
    app = ViewHost()
    async with app.run_test(size=(30, 20)) as pilot:
        app.view.fill(rows)
        app.view.update(Content(text))
        await pilot.pause()
        yield pilot, app.view


def shown_and_textuals(view: MarkdownBlockView) -> tuple[list[list], list[list]]:
    """The rows the screen got for ``view``, and the rows Textual draws of it anew."""
    region = Region(0, 0, view.size.width, view.size.height)
    shown = [list(strip) for strip in view.render_lines(region)]
    view._styles_cache.clear()
    view._render_content()
    return shown, [list(strip) for strip in view.render_lines(region)]


def text_rows(view: MarkdownBlockView) -> list[str]:
    return [strip.text.rstrip() for strip in
            view.render_lines(Region(0, 0, view.size.width, view.size.height))]


async def test_text_growing_within_the_view_repaints_only_its_last_rows() -> None:
    async with view_showing(TEXT, rows=10) as (pilot, view):
        height = view.size.height
        last = max(y for y, row in enumerate(text_rows(view)) if row)
        drawn = Drawn(view)
        view.update(Content(TEXT + " more"), layout=False)
        await pilot.pause()
        assert view.size.height == height
        assert drawn.rows and min(drawn.rows) >= last, (drawn.rows, last)
        assert len(drawn.rows) <= 2, drawn.rows
        assert any(row.endswith("more") for row in text_rows(view))
        shown, textuals = shown_and_textuals(view)
        assert shown == textuals


async def test_a_change_above_repaints_from_the_row_it_is_on() -> None:
    async with view_showing(TEXT, rows=10) as (pilot, view):
        drawn = Drawn(view)
        view.update(Content("The" + TEXT[1:]), layout=False)
        await pilot.pause()
        assert 0 in drawn.rows
        assert text_rows(view)[0].startswith("The paragraph")
        shown, textuals = shown_and_textuals(view)
        assert shown == textuals


async def test_the_same_content_again_repaints_nothing() -> None:
    async with view_showing(TEXT, rows=10) as (pilot, view):
        drawn = Drawn(view)
        view.update(Content(TEXT), layout=False)
        await pilot.pause()
        assert drawn.rows == []


async def test_an_update_that_may_change_the_height_repaints_it_all() -> None:
    async with view_showing(TEXT, rows=10) as (pilot, view):
        drawn = Drawn(view)
        view.update(Content(TEXT + " more"))  # layout=True: Textual's own way
        await pilot.pause()
        assert set(range(view.size.height)) <= set(drawn.rows)
        shown, textuals = shown_and_textuals(view)
        assert shown == textuals
