"""Links styled only in the rows that have them (tui/ui/widgets/link_rows.py) look as
Textual's own link styling makes them, and rows without one are not rebuilt."""

from __future__ import annotations

from rich.style import Style as RichStyle
from textual.widget import Widget

from tests.test_streaming_markdown import Host, StreamingMarkdown, finished_pages

TEXT = ("A first paragraph without links, long enough to wrap over more than one row of "
        "the screen.\n\nSee [the docs](https://example.com/docs) and "
        "<https://example.com/other> for **more**.\n\nA last paragraph.\n\nTail")


def drawn(rows) -> list[list[tuple[str, RichStyle]]]:
    """Rows as text and style pieces (Textual drops a null style, this keeps it)."""
    return [[(segment.text, segment.style or RichStyle()) for segment in row if segment.text]
             for row in rows]


async def test_the_same_rows_as_textuals_link_styling() -> None:
    widget = StreamingMarkdown()
    app = Host(widget)
    async with app.run_test(size=(60, 30)) as pilot:
        widget.FLUSH_INTERVAL = 0
        widget.append(TEXT)
        for _ in range(4):
            await pilot.pause()
        page = finished_pages(widget)[0]
        ours = list(page._render_cache.lines)
        page._dirty_regions.add(page.size.region)
        Widget._render_content(page)  # Textual's own: every row rebuilt
        textuals = list(page._render_cache.lines)
        assert drawn(ours) == drawn(textuals)
        linked = [row for row in drawn(ours) if any("docs" in text for text, _ in row)]
        assert linked, "the case under test: a row with a link"
        styles = {text: style for text, style in linked[0]}
        assert styles["the docs"] != styles[" and "], "the link is styled as one"
        # Drawn again, each row of text is the one drawn before: not rebuilt, and a row
        # with a link not styled again.
        page._dirty_regions.add(page.size.region)
        page._render_content()
        again = page._render_cache.lines
        text_rows = [i for i, row in enumerate(again) if row.text]
        assert len(text_rows) >= 3 and all(again[i] is ours[i] for i in text_rows)
