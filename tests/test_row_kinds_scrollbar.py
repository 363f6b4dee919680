"""The messages' scrollbar draws a row of a kind it already drew from that drawing
(tui/ui/widgets/row_kinds_scrollbar.py): its rows are Textual's own in every state."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from textual.widgets import Static

from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.row_kinds_scrollbar import RowKindsScrollBar


class Pane(VerticalScroll):
    vertical_scrollbar = ChatPane.vertical_scrollbar


class PaneHost(App[None]):
    CSS = "Pane { height: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.text = Static("\n".join(f"line {n}" for n in range(120)))

    def compose(self) -> ComposeResult:
        with Pane():
            yield self.text


def rows(bar: ScrollBar) -> tuple[list[list], list[list]]:
    """The bar's rows as it draws them, and as Textual's own path draws them anew."""
    region = Region(0, 0, bar.size.width, bar.size.height)
    shown = [list(strip) for strip in bar.render_lines(region)]
    bar._styles_cache.clear()
    return shown, [list(strip) for strip in Widget.render_lines(bar, region)]


async def test_the_rows_are_textuals_own_in_every_state() -> None:
    app = PaneHost()
    async with app.run_test(size=(40, 30)) as pilot:
        await pilot.pause()
        pane = app.query_one(Pane)
        bar = pane.vertical_scrollbar
        assert isinstance(bar, RowKindsScrollBar) and bar.display
        states = [lambda: None, lambda: pane.scroll_to(y=37, animate=False),
                  lambda: pane.scroll_end(animate=False),
                  lambda: setattr(bar, "mouse_over", True),
                  lambda: setattr(app, "theme", "textual-light"),
                  lambda: pane.scroll_home(animate=False)]
        seen = set()
        for state in states:
            state()
            await pilot.pause()
            shown, textuals = rows(bar)
            assert len(shown) == pane.size.height
            assert shown == textuals
            seen.add(str(shown))
        assert len(seen) == len(states)  # each state drew something else


async def test_a_growing_pane_followed_at_its_end_draws_few_rows_anew() -> None:
    app = PaneHost()
    async with app.run_test(size=(40, 30)) as pilot:
        pane = app.query_one(Pane)
        pane.scroll_end(animate=False)
        await pilot.pause()
        bar = pane.vertical_scrollbar
        assert isinstance(bar, RowKindsScrollBar)
        rows(bar)  # every kind of row drawn once
        drawn = bar.rows_drawn
        for extra in range(1, 6):
            app.text.update("\n".join(f"line {n}" for n in range(120 + extra)))
            await pilot.pause()
            pane.scroll_end(animate=False)
            await pilot.pause()
        region = Region(0, 0, bar.size.width, bar.size.height)
        bar.render_lines(region)
        assert bar.rows_drawn - drawn <= 5 * 2, "a row or two of a new kind per growth at most"
        shown, textuals = rows(bar)
        assert shown == textuals
