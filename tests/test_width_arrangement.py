"""A message's block is arranged by its width alone (tui/ui/widgets/width_arrangement.py):
measured and placed at two heights, it is arranged once, and where it cannot be (a docked or
fractional child) it is arranged as Textual does."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from tui.ui.widgets.width_arrangement import ArrangedByWidth, placed_by_width


class Column(ArrangedByWidth, Vertical):
    DEFAULT_CSS = """
    Column { height: auto; }
    Column.-docked > .second { dock: bottom; }
    Column.-fraction > .second { height: 1fr; }
    Column.-bottom { align-vertical: bottom; }
    """


class Host(App[None]):
    def __init__(self, classes: str = "") -> None:
        super().__init__()
        self.column = Column(classes=classes)

    def compose(self) -> ComposeResult:
        with self.column:
            yield Static("a header", classes="first")
            yield Static("a reply\nof two rows", classes="second")


def regions(arrangement) -> list:
    return [(placement.widget, placement.region) for placement in arrangement.placements]


def textuals(column: Column, size: Size) -> list:
    column._arrangement_cache.clear()
    return regions(Widget.arrange(column, size))


async def test_measured_then_placed_it_is_arranged_once() -> None:
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        column = app.column
        assert placed_by_width(column)
        column._clear_arrangement_cache()
        measured = column.arrange(Size(40, 20))
        placed = column.arrange(Size(40, 3))
        assert placed is measured
        assert regions(placed) == textuals(column, Size(40, 3))
        # A child asking for a layout (Textual clears its ancestors' arrangements): anew.
        app.query_one(".second", Static).update("one row now")
        await pilot.pause()
        column.arrange(Size(40, 20))
        assert regions(column.arrange(Size(40, 2))) == textuals(column, Size(40, 2))
        assert len(column.arrange(Size(40, 2)).placements) == 2


@pytest.mark.parametrize("classes", ["-docked", "-fraction", "-bottom"])
async def test_a_child_placed_by_the_height_is_arranged_as_textual_does(classes: str) -> None:
    app = Host(classes)
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        column = app.column
        assert not placed_by_width(column)
        column._clear_arrangement_cache()
        tall = column.arrange(Size(40, 12))
        short = column.arrange(Size(40, 5))
        assert short is not tall
        assert regions(short) == textuals(column, Size(40, 5))
