"""The compositor that skips covered lines paints exactly what Textual's own paints
(tui/ui/covered_compositor.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual._compositor import Compositor
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Static

from tui.ui.covered_compositor import CoveredCompositor


class Layered(Screen[None]):
    """Borders, padding, a scrolled pane whose children are clipped, a docked bar and a
    widget on a layer above the others: each way one widget covers another."""

    DEFAULT_CSS = """
    Layered { layers: base above; }
    #side { width: 16; border-right: solid red; padding: 1; }
    #pane { padding: 0 1; }
    #pane > Static { border: round blue; margin-bottom: 1; background: $panel; }
    #bar { dock: bottom; height: 1; background: green; }
    #float { layer: above; offset: 20 5; width: 30; height: 4; border: heavy yellow; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._compositor = CoveredCompositor()

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="side"):
                yield Static("[b]side[/b] one")
                yield Static("two")
            with VerticalScroll(id="pane"):
                for n in range(30):
                    yield Static(f"message {n}\n" + "word " * (n % 7 + 1) * 5)
        yield Static("the bar", id="bar")
        yield Static("floating over the pane", id="float")


class LayeredApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(Layered())


def chops_of(compositor: Compositor, crop: Region, rows: set[int]) -> list[list[Any]]:
    chops = compositor._render_chops(crop, rows.__contains__)
    return [[(cut, None if strip is None else list(strip)) for cut, strip in line.items()]
            for line in chops]


@asynccontextmanager
async def laid_out() -> AsyncIterator[tuple[Screen, CoveredCompositor]]:
    """The layered screen on a 70x24 terminal, and a compositor of our own that has laid it
    out (the screen's own is left as it is)."""
    app = LayeredApp()
    async with app.run_test(size=(70, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        compositor = CoveredCompositor()
        compositor.reflow(screen, screen.size)
        yield screen, compositor


def crops_asked_of(widget: Any) -> list[Region]:
    """The regions ``widget`` is asked to draw from now on (its ``render_lines`` crops)."""
    crops: list[Region] = []
    original = widget.render_lines

    def render_lines(crop: Region) -> Any:
        crops.append(crop)
        return original(crop)

    widget.render_lines = render_lines
    return crops


@pytest.mark.parametrize("scroll_to", [0, 17, 1000])
async def test_the_same_pieces_as_textuals_compositor(scroll_to: int) -> None:
    app = LayeredApp()
    async with app.run_test(size=(70, 24)) as pilot:
        await pilot.pause()
        pane = app.screen.query_one("#pane")
        pane.scroll_to(y=scroll_to, animate=False)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen._compositor, CoveredCompositor)
        plain, covered = Compositor(), CoveredCompositor()
        for compositor in (plain, covered):
            compositor.reflow(screen, screen.size)
        everything = set(range(screen.size.height))
        cases = [
            (screen.size.region, everything),
            (pane.region, set(pane.region.line_range)),
            (Region(10, 3, 40, 6), {3, 5, 8}),
            (Region(0, 23, 70, 1), {23}),
        ]
        for crop, rows in cases:
            assert chops_of(covered, crop, rows) == chops_of(plain, crop, rows), crop
        screen_lines = [strip.text for strip in covered.render_strips()]
        assert screen_lines == [strip.text for strip in plain.render_strips()]
        assert "floating over the pane" in "\n".join(screen_lines)


async def test_a_covered_widget_is_not_drawn() -> None:
    """The screen and the columns behind the pane and the sidebar are not asked for a line."""
    async with laid_out() as (screen, compositor):
        drawn = crops_asked_of(screen.query_one(Horizontal))
        compositor.render_strips()
    assert drawn == []


async def test_a_scrollbar_moved_by_a_layout_is_painted_in_that_frame() -> None:
    """A layout that moves the pane's scrollbar thumb paints it in the same frame: the
    scrollbar's request to be painted is taken, not sent to the screen as a message after
    the frame (which cost a frame of its own after every update of a streaming reply). The
    screen is the same as Textual's own compositor paints."""
    from textual import messages
    from textual.scrollbar import ScrollBar

    app = LayeredApp()
    async with app.run_test(size=(70, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        pane = screen.query_one("#pane", VerticalScroll)
        pane.scroll_end(animate=False)
        await pilot.pause()
        updates: list[str] = []
        post = screen.post_message

        def post_message(message: Any) -> bool:
            if isinstance(message, messages.Update):
                updates.append(type(message.widget).__name__)
            return post(message)

        screen.post_message = post_message  # type: ignore[method-assign]
        await pane.mount(*(Static("more " * 40) for _ in range(5)))
        await pilot.pause()
        await pilot.pause()
        assert "ScrollBar" not in updates, updates
        bar = pane.vertical_scrollbar
        assert isinstance(bar, ScrollBar) and bar.window_virtual_size == pane.virtual_size.height
        plain = Compositor()
        plain.reflow(screen, screen.size)
        assert ([strip.text for strip in app.screen._compositor.render_strips()]
                == [strip.text for strip in plain.render_strips()])


async def test_a_layout_does_not_arrange_the_screen_twice() -> None:
    """After a layout, asking where a widget is reads the map the layout made: Textual's
    compositor, when something had marked its map stale before (here a widget scrolled out
    of view asking to be painted), arranged the whole screen a second time for it."""
    async with laid_out() as (screen, compositor):
        hidden = list(screen.query("#pane > Static"))[-1]  # below the pane's view
        assert hidden not in compositor.visible_widgets
        arranged: list[bool] = []
        original = compositor._arrange_root

        def arrange_root(*args: Any, **kwargs: Any) -> Any:
            arranged.append(True)
            return original(*args, **kwargs)

        compositor._arrange_root = arrange_root  # type: ignore[method-assign]
        compositor.update_widgets({hidden})  # marks the map stale
        compositor.reflow(screen, screen.size)
        found = compositor.find_widget(hidden)
        assert len(arranged) == 1, "the layout's map was made again"
        plain = Compositor()
        plain.reflow(screen, screen.size)
        assert found == plain.find_widget(hidden)


async def test_a_change_of_one_line_asks_each_widget_for_that_line_only() -> None:
    """The sidebar's border is open on every line: a change of one line of the pane asked
    it for all of its lines, each update of a streaming reply."""
    async with laid_out() as (screen, compositor):
        asked = crops_asked_of(screen.query_one("#side"))
        chops_of(compositor, screen.size.region, {12})
        assert [crop.height for crop in asked] == [1]
        plain = Compositor()
        plain.reflow(screen, screen.size)
        for rows in ({12}, {3, 9}, set(range(24))):
            assert (chops_of(compositor, screen.size.region, rows)
                    == chops_of(plain, screen.size.region, rows)), rows
