"""A reply's widgets show content given to them while they mount at its full height.

Textual lays a container's children out before each has mounted and caches each one's
height, but drops that cache on ``refresh`` only once the widget has mounted. A page that
received a 150-row table in that window kept its one-row height; a pty test caught the
reply drawn without its table (CI, under load). Here a widget's mount is held open while
the screen lays its parent out, as a busy loop can leave it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from tui.ui.widgets.markdown_splitter import MarkdownSplitter
from tui.ui.widgets.markdown_views import BlockPage, MarkdownBlockView
from tui.ui.widgets.streaming_markdown import StreamingMarkdown

WIDTH = 60
TABLE = "| n | square |\n|---|---|\n" + "\n".join(f"| {i} | {i * i} |" for i in range(20))


def blocks(text: str):
    splitter = MarkdownSplitter()
    splitter.feed(text)
    return splitter.update(final=True)


class HeldPage(BlockPage):
    gate: asyncio.Event

    async def on_mount(self) -> None:
        await self.gate.wait()


class HeldView(MarkdownBlockView):
    gate: asyncio.Event

    async def on_mount(self) -> None:
        await self.gate.wait()


class HeldReply(StreamingMarkdown):
    gate: asyncio.Event

    async def on_mount(self) -> None:
        await self.gate.wait()


def page() -> tuple[Widget, Callable[[], None]]:
    widget = HeldPage(first=True)
    widget.add(blocks("Here it is:"))
    return widget, lambda: widget.add(blocks(TABLE))


def view() -> tuple[Widget, Callable[[], None]]:
    widget = HeldView(blocks("Here it is:")[0])
    return widget, lambda: widget.show(blocks(TABLE)[0])


def reply() -> tuple[Widget, Callable[[], None]]:
    widget = HeldReply()
    widget.set_text("Here it is:")
    return widget, lambda: widget.set_text(TABLE)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Vertical(id="parent")


@pytest.mark.parametrize("make", [page, view, reply], ids=["page", "view", "reply"])
async def test_content_given_while_mounting_is_measured_at_its_new_height(make) -> None:
    app = Host()
    async with app.run_test(size=(WIDTH, 40)):
        parent = app.query_one("#parent")
        widget, grow = make()
        gate = widget.gate = asyncio.Event()
        laid_out = asyncio.Event()
        app.screen.screen_layout_refresh_signal.subscribe(
            parent, lambda _: laid_out.set(), immediate=True)
        parent.mount(widget)
        parent.refresh(layout=True)
        await asyncio.wait_for(laid_out.wait(), 5)
        assert not widget.is_mounted, "the mount was meant to be still open"
        size = app.screen.size
        before = widget.get_content_height(size, size, WIDTH)
        assert before == 1

        grow()
        after = widget.get_content_height(size, size, WIDTH)
        gate.set()
        fresh, grow_fresh = make()
        grow_fresh()  # never measured before its change
        expected = fresh.get_content_height(size, size, WIDTH)
        assert expected > 20
        assert after == expected, f"measured {after} rows: the height from before the change"
