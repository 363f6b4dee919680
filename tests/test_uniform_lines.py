"""A container that draws one row for all (tui/ui/widgets/uniform_lines.py) shows exactly
what Textual draws row by row, for the pane's blocks in every style they take."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static

from tui.ui.widgets.uniform_lines import UniformLines, rows_are_uniform


class Block(UniformLines, Vertical):
    DEFAULT_CSS = """
    Block { height: 7; margin: 1 0 0 0; padding: 0 1; background: $panel;
            border-left: outer $secondary; }
    Block.-focused { background: $boost; border-left: outer $accent; }
    Block.-boxed { border: round $warning; }
    Block.-padded { padding: 1 2; }
    """


class Blocks(App[None]):
    def compose(self) -> ComposeResult:
        for classes in ("", "-focused", "-boxed", "-padded"):
            with Block(classes=classes):
                yield Static("some text")
        titled = Block()
        titled.border_title = "title"
        yield titled


def textuals_rows(widget: Widget, crop: Region) -> list[list]:
    widget._styles_cache.clear()
    return [list(strip) for strip in Widget.render_lines(widget, crop)]


@pytest.mark.parametrize("crop", [Region(0, 0, 40, 7), Region(0, 2, 40, 4),
                                  Region(3, 1, 10, 3), Region(0, 6, 40, 1)])
async def test_the_same_rows_as_textuals_drawing(crop: Region) -> None:
    app = Blocks()
    async with app.run_test(size=(40, 60)) as pilot:
        await pilot.pause()
        blocks = list(app.query(Block))
        assert [rows_are_uniform(b) for b in blocks] == [True, True, False, False, False]
        for block in blocks:
            expected = textuals_rows(block, crop)
            block._styles_cache.clear()
            assert [list(strip) for strip in block.render_lines(crop)] == expected
            # Drawn after a height change too (Textual marks every row to draw again).
            block.styles.height = 9
            await pilot.pause()
            expected = textuals_rows(block, crop)
            block._styles_cache.clear()
            assert [list(strip) for strip in block.render_lines(crop)] == expected


async def test_a_uniform_block_draws_one_row_for_all() -> None:
    app = Blocks()
    async with app.run_test(size=(40, 60)) as pilot:
        await pilot.pause()
        block = app.query(Block).first()
        drawn: list[int] = []
        original = block.render_line

        def render_line(y: int):
            drawn.append(y)
            return original(y)

        block.render_line = render_line  # type: ignore[method-assign]
        block._styles_cache.clear()
        strips = block.render_lines(Region(0, 0, 40, 7))
        assert len(strips) == 7 and drawn == [0]
