"""A streaming reply's containers repaint only what moved when a view mounts or leaves
(tui/ui/widgets/moved_only.py)."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from tests.test_streaming_markdown import Host, screen_text
from tui.ui.widgets.markdown_views import BlockPage, FenceColumn
from tui.ui.widgets.moved_only import RepaintWhatMoved
from tui.ui.widgets.streaming_markdown import StreamingMarkdown


class RowCounter:
    """Screen rows each frame repaints (from the compositor's dirty regions)."""

    def __init__(self, screen: Screen[Any]) -> None:
        self.frames: list[int] = []
        compositor = screen._compositor
        original = compositor.render_partial_update

        def counted() -> Any:
            rows = {y for region in compositor._dirty_regions for y in region.line_range}
            self.frames.append(len(rows))
            return original()

        compositor.render_partial_update = counted  # type: ignore[method-assign]


async def rows_repainted_when_a_code_block_opens(reply: StreamingMarkdown) -> tuple[int, int]:
    """(most rows a frame after the update repainted, the rows the reply's first page
    fills) when an update opens a code block: its view mounts a few loop turns after the
    update's own frame (which repaints the page the paragraph before it went to), and
    Textual lays the reply out again then."""
    reply.FLUSH_INTERVAL = 0
    # Painted as soon as asked, not once the new views have mounted (the streaming update
    # waits for them: one frame for both, see tests/test_streaming_markdown.py), so that
    # the frame after the mount is this module's alone.
    reply._holds.hold = lambda *_, **__: False  # type: ignore[method-assign]
    app = Host(reply)
    async with app.run_test(size=(60, 40)) as pilot:
        reply.append("".join(f"Paragraph {n}.\n\n" for n in range(15)))
        await pilot.pause()
        await pilot.pause()
        page = reply.query_one(BlockPage)
        counter = RowCounter(app.screen)
        reply.append("```python\nx = 1\n")
        for _ in range(4):
            await pilot.pause()
        assert reply.query(FenceColumn), "the open block mounted its own view"
        assert "x = 1" in screen_text(app)
        assert "Paragraph 0." in screen_text(app)
        assert len(counter.frames) >= 2, "the update's frame, then the one after the mount"
        return max(counter.frames[1:]), page.size.height


async def test_a_mounting_view_does_not_repaint_the_reply_above_it() -> None:
    most, page_rows = await rows_repainted_when_a_code_block_opens(StreamingMarkdown())
    assert page_rows >= 25
    assert most < page_rows // 2, "only the new view's rows and what moved"


async def test_without_it_the_whole_reply_is_repainted() -> None:
    """The case under test: Textual repaints the container whole after a mount."""

    class Plain(StreamingMarkdown):
        def draws_own_content(self) -> bool:
            return True

    most, page_rows = await rows_repainted_when_a_code_block_opens(Plain())
    assert most >= page_rows


def test_a_complete_message_still_repaints_itself() -> None:
    reply = StreamingMarkdown()
    assert not reply.draws_own_content()
    reply.set_text("Done.")
    assert reply.draws_own_content()
    assert isinstance(reply, RepaintWhatMoved)
