"""A growing reply is laid out once per update (tui/ui/widgets/one_layout.py)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.one_layout import OneLayoutPass


class Grower(OneLayoutPass, Static):
    pass


class Pane(OneLayoutPass, VerticalScroll):
    pass


class LayoutCounter:
    """Wraps ``screen._refresh_layout``; ``calls`` counts them, ``reset()`` starts again."""

    def __init__(self, screen: Screen[Any]) -> None:
        self.calls = 0
        original = screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            self.calls += 1
            original(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]

    def reset(self) -> None:
        self.calls = 0


class Host(App[None]):
    def __init__(self, grower: Static, pane: VerticalScroll) -> None:
        super().__init__()
        self.grower = grower
        self.pane = pane

    def compose(self) -> ComposeResult:
        with self.pane:
            yield Static("\n".join(f"line {n}" for n in range(30)))
            yield self.grower


async def layouts_per_update(grower: Static, pane: VerticalScroll) -> list[int]:
    """Screen layouts each of five one-line growths of ``grower`` caused."""
    app = Host(grower, pane)
    counts: list[int] = []
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        layouts = LayoutCounter(app.screen)
        text = "first"
        for n in range(5):
            text += f"\nmore {n}"
            layouts.reset()
            grower.update(text)
            await pilot.pause()
            await pilot.pause()
            counts.append(layouts.calls)
        assert grower.size.height == 6, "laid out at its new height"
        assert pane.virtual_size.height == 30 + 6
    return counts


async def test_growing_in_height_is_laid_out_once() -> None:
    plain = await layouts_per_update(Static("first"), VerticalScroll())
    once = await layouts_per_update(Grower("first"), Pane())
    assert max(plain) >= 2, "Textual lays a resized widget out twice (the case under test)"
    assert once == [1] * 5


async def test_the_mixin_keeps_the_css_of_the_class_it_is_mixed_into() -> None:
    """Textual reads default CSS along each class's first DOMNode base: a Widget mixin
    first would have hidden VerticalScroll's (its scrollbar and overflow)."""
    app = Host(Grower("x"), ChatPane())
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert app.pane.styles.overflow_y == "auto"
        assert app.pane.show_vertical_scrollbar


async def test_a_streaming_code_block_is_laid_out_once_per_update() -> None:
    """Its container grows with each update: no second layout on the next frame (and
    none at all while its lines grow into the blank rows below the reply, see
    test_stream_runway)."""
    from tests.test_streaming_markdown import Host as ReplyHost
    from tui.ui.widgets.markdown_views import FenceColumn
    from tui.ui.widgets.streaming_markdown import StreamingMarkdown

    reply = StreamingMarkdown()
    reply.FLUSH_INTERVAL = 0  # an update per pause: no timers
    app = ReplyHost(reply)
    async with app.run_test(size=(60, 40)) as pilot:
        reply.append("Some code:\n\n```python\nx = 0\n")
        await pilot.pause()
        await pilot.pause()
        assert reply.query(FenceColumn), "the open block is in its own container"
        layouts = LayoutCounter(app.screen)
        counts = []
        for n in range(5):
            layouts.reset()
            reply.append(f"x = {n + 1}\n")
            await pilot.pause()
            await pilot.pause()
            counts.append(layouts.calls)
        assert "x = 5" in "\n".join(strip.text for strip in
                                     app.screen._compositor.render_strips())
    assert all(count <= 1 for count in counts) and sum(counts) < 5, counts


async def test_a_widget_that_cannot_scroll_is_laid_out_once_when_it_first_comes() -> None:
    """A new page or code block column of a streaming reply: its first layout asked for a
    second one (its virtual size set), on most updates at 200 tok/s. One that scrolls keeps
    the second pass (its scrollbars are only right after it)."""
    plain_pane, pane = VerticalScroll(), Pane()
    for host_pane, make, expected in ((plain_pane, Static, 2), (pane, Grower, 1)):
        app = Host(Static("first"), host_pane)
        async with app.run_test(size=(40, 12)) as pilot:
            await pilot.pause()
            layouts = LayoutCounter(app.screen)
            newcomer = make("one\ntwo\nthree")
            await host_pane.mount(newcomer)
            for _ in range(4):
                await pilot.pause()
            assert newcomer.size.height == 3
            assert layouts.calls == expected, (make, layouts.calls)
