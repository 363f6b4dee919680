"""Blank rows below a streaming reply (``stream_runway``): growing into them moves nothing on
screen, using them up takes a step more at once, and the reply's end gives them back."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tests.test_one_layout import LayoutCounter
from tests.test_streaming_markdown import screen_text
from tui.ui.widgets.streaming_markdown import StreamingMarkdown

SIZE = (40, 20)  # 20 rows: the minimum of 3 blank rows


class Pane(App[None]):
    """A scrolling pane kept at its end, with more above the reply than fits."""

    CSS = "#above { height: 30; }"

    def __init__(self, widget: StreamingMarkdown) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("earlier messages", id="above")
            yield self.widget

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


async def shown(pilot, widget: StreamingMarkdown, text: str) -> None:
    widget.append(text)
    await pilot.pause()
    await pilot.pause()


async def test_the_text_grows_into_blank_rows_and_the_pane_stays_put() -> None:
    widget = StreamingMarkdown()
    widget.FLUSH_INTERVAL = 0
    app = Pane(widget)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(VerticalScroll)
        rows = widget.runway_rows(app.size)
        assert rows == 3
        await shown(pilot, widget, "one")
        assert widget.size.height == rows  # the reply starts with its blank rows
        scrolled = pane.scroll_y
        await shown(pilot, widget, " two" * 12)  # wraps onto a second row
        assert widget._live is not None and 1 < widget._live.size.height <= rows
        assert widget.size.height == rows and pane.scroll_y == scrolled
        await shown(pilot, widget, " three" * 12)  # past the blank rows: a few more at once
        text_rows = widget._live.size.height
        assert text_rows > rows
        height = (text_rows // rows + 1) * rows  # the next step of 3 rows above the text
        assert widget.size.height == height
        assert pane.scroll_y == scrolled + height - rows  # moved once, by whole steps


async def test_the_last_words_show_first_and_closing_gives_the_rows_back() -> None:
    widget = StreamingMarkdown()
    widget.FLUSH_INTERVAL = 0
    app = Pane(widget)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, widget, "The very last")
        widget.append(" words.")
        widget.finish(keep_runway=True)
        await pilot.pause()
        # The last words come in a frame of their own: the rows stay until the owner closes
        # them (a reply's block does once the reply is stored).
        assert "The very last words." in screen_text(app)
        assert widget.runway_open and widget.size.height == widget.runway_rows(app.size)
        widget.close_runway()
        await pilot.pause()
        assert not widget.runway_open
        assert widget.display and widget.size.height == 1  # the text's own height
        assert "The very last words." in screen_text(app)


async def test_a_stored_message_keeps_no_blank_rows() -> None:
    widget = StreamingMarkdown()
    widget.set_text("A stored answer.")
    app = Pane(widget)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not widget.runway_open and widget.size.height == 1



async def test_the_tail_fills_the_blank_rows_and_grows_without_a_layout() -> None:
    """The tail's view takes the blank rows but the last: a new row of text is a repaint
    of that view, not a layout of the screen (at 20 tok/s most updates add a row)."""
    widget = StreamingMarkdown()
    widget.FLUSH_INTERVAL = 0
    app = Pane(widget)
    async with app.run_test(size=(40, 40)) as pilot:  # 40 rows: steps of 4 blank rows
        await shown(pilot, widget, "one")
        live = widget._live
        assert live is not None and widget.size.height == 4
        assert live.size.height == 3 and live.min_rows == 3  # all but the last blank row
        layouts = LayoutCounter(app.screen)
        await shown(pilot, widget, " two" * 10)  # wraps onto a second row
        assert "two two" in screen_text(app)
        assert layouts.calls == 0 and live.size.height == 3 and widget.size.height == 4
        await shown(pilot, widget, " three" * 20)  # past the blank rows: a layout, a step
        assert layouts.calls and widget.size.height == 8
        assert live.size.height == widget.size.height - 1
        widget.finish(keep_runway=True)
        widget.close_runway()
        await pilot.pause()
        assert widget.size.height == live.text_rows == live.size.height


async def test_a_code_block_still_streaming_grows_into_the_blank_rows() -> None:
    """The last lines of an open code block fill the blank rows as the tail's view does:
    a new line of code is a repaint of that view, not a layout of the screen (at 20 tok/s a
    code block streamed a line an update, each a layout)."""
    widget = StreamingMarkdown()
    widget.FLUSH_INTERVAL = 0
    app = Pane(widget)
    async with app.run_test(size=(40, 40)) as pilot:  # 40 rows: steps of 4 blank rows
        await shown(pilot, widget, "Some code:\n\n```python\nx = 1\n")
        fence = widget._fence_live
        assert fence is not None and widget.runway_filler() is fence
        await pilot.pause()
        layouts = LayoutCounter(app.screen)
        height = widget.size.height
        assert fence.min_rows > fence.text_rows  # it holds blank rows to grow into
        room = fence.min_rows - fence.text_rows
        for n in range(2, 2 + room):
            await shown(pilot, widget, f"y{n} = {n}\n")
            assert f"y{n} = {n}" in screen_text(app)
        assert layouts.calls == 0 and widget.size.height == height
        await shown(pilot, widget, "z = 0\nw = 0\n" * 3)  # past the blank rows
        assert layouts.calls and widget.size.height > height
        assert "w = 0" in screen_text(app)
        widget.append("```\n\nAfter.")
        widget.finish(keep_runway=True)
        widget.close_runway()
        await pilot.pause()
        await pilot.pause()
        assert "After." in screen_text(app) and "y2 = 2" in screen_text(app)


async def test_a_table_streaming_in_grows_into_the_blank_rows() -> None:
    """A table's new row is a repaint of the tail's view while it fits the blank rows: the
    table is measured (it keeps the lines it measured for drawing), not laid out for
    every row it grows by."""
    widget = StreamingMarkdown()
    widget.FLUSH_INTERVAL = 0
    app = Pane(widget)
    async with app.run_test(size=(60, 40)) as pilot:  # steps of 4 blank rows
        await shown(pilot, widget, "| a | b |\n|---|---|\n| 1 | one |\n")
        live = widget._live
        assert live is not None and widget.runway_filler() is live
        for n in range(100, 104):  # until the table's last row leaves blank rows below
            if live.min_rows > live.text_rows + 1:
                break
            await shown(pilot, widget, f"| {n} | row {n} |\n")
        await pilot.pause()
        layouts = LayoutCounter(app.screen)
        height = widget.size.height
        room = live.min_rows - live.text_rows
        assert room > 0
        for n in range(2, 2 + room):
            await shown(pilot, widget, f"| {n} | row {n} |\n")
            assert f"row {n}" in screen_text(app)
        assert layouts.calls == 0 and widget.size.height == height
        await shown(pilot, widget, "| 9 | nine |\n| 10 | ten |\n" * 3)  # past them
        assert layouts.calls and widget.size.height > height and "ten" in screen_text(app)
