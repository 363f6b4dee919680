"""Mouse selection in the messages pane: a drag over any kind of block (and across blocks
and messages) selects the text shown, Ctrl+C and Ctrl+Y copy it the honest way, and the
selected cells are highlighted.

Replies are drawn two ways - a stored reply by one widget for the whole message, a reply
streamed this session by one widget per block - so each case runs on both."""

from __future__ import annotations

import pytest
from textual.style import Style

from tests.fake_openai.scripts import Script
from tests.test_app_copy import capture_terminal, copied, terminal_env  # noqa: F401
from tests.test_app_support import make_app, make_services, screen_text, wait_until
from tui.core.attachments import ImageFile
from tui.core.clipboard import osc52
from tui.core.models import Role
from tui.ui.widgets.message_blocks import AssistantBlock, UserBlock
from tui.ui.widgets.streaming_markdown import StreamingMarkdown

SIZE = (90, 60)
QUESTION = "look at this [image shot.png · 72 B]"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
LONG = ("A paragraph of text that is long enough to wrap over two rows of the pane at this "
        "width, so its copy must join them again with the space the wrap took.")
REPLY = f"""# The heading

{LONG}

- first item
- second item
  1. nested one

> a quoted line

```python
x = 1
```

| name | size |
| --- | --- |
| a | 1 |

---

The end."""

# Each block: the text on its first and last rows, and what dragging over it copies.
BLOCKS = {
    "heading": ("The heading", "The heading", "The heading"),
    "paragraph": ("A paragraph", "again with", LONG),
    "list": ("first item", "nested one", "• first item\n• second item\n  1. nested one"),
    "quote": ("a quoted line", "a quoted line", "a quoted line"),
    "code": ("#1 python", "x = 1", "x = 1"),
    "table": ("name", "a    │ 1", "name | size\na    | 1"),
}
WHOLE = ("You\n" + QUESTION + "\nAssistant · gpt-4o-mini\nThe heading\n\n" + LONG
         + "\n\n• first item\n• second item\n  1. nested one\n\na quoted line\n\nx = 1\n\n"
         + "name | size\na    | 1\n\n\nThe end.")


@pytest.fixture(params=["stored", "streamed"])
async def app(request, tmp_path, fake_openai):
    """The app showing QUESTION and REPLY: stored (one widget draws the reply) or just
    streamed from the test server (one widget per block)."""
    services = make_services(tmp_path, fake_openai.base_url)
    if request.param == "stored":
        chat = services.store.create_conversation(model="gpt-4o-mini", title="Select")
        services.store.append_message(chat.id, Role.USER, QUESTION)
        services.store.append_message(chat.id, Role.ASSISTANT, REPLY, model="gpt-4o-mini")
    else:
        fake_openai.script(Script.reply(REPLY))
    app = make_app(services)
    app.streamed = request.param == "streamed"
    yield app
    await services.aclose()


async def shown(pilot) -> None:
    app = pilot.app
    if app.streamed:
        composer = app.main.composer
        composer.focus()
        composer.insert("look at this ")
        assert composer.attach(ImageFile("shot.png", "image/png", PNG)) in QUESTION
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.main.streams and "The end." in screen_text(app),
                         what="the streamed reply")
        markdown = app.screen.query_one(AssistantBlock).markdown
        assert markdown.children, "a streamed reply keeps one widget per block"
    await wait_until(pilot, lambda: "The end." in screen_text(app), what="the reply")
    await pilot.pause()


def find(app, text: str, after: int = 0) -> tuple[int, int]:
    """Screen (x, y) where ``text`` is shown, on the first row from ``after`` on."""
    for y, line in enumerate(screen_text(app).split("\n")):
        if y >= after and text in line:
            return line.index(text), y
    raise AssertionError(f"{text!r} is not on screen")


async def drag(pilot, start: tuple[int, int], end: tuple[int, int]) -> str | None:
    await pilot.mouse_down(offset=start)
    await pilot.hover(offset=end)
    await pilot.mouse_up(offset=end)
    await pilot.pause()
    return pilot.app.screen.get_selected_text()


def reply_columns(app) -> tuple[int, int]:
    """The first and last column of the reply's Markdown."""
    region = app.screen.query_one(StreamingMarkdown).region
    return region.x, region.right - 1


@pytest.mark.parametrize("kind", list(BLOCKS))
async def test_each_kind_of_block_copies_the_text_it_shows(app, kind):
    first, last, expected = BLOCKS[kind]
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot)
        left, right = reply_columns(app)
        _, top = find(app, first, after=find(app, "Assistant")[1])
        _, bottom = find(app, last, after=top)
        assert await drag(pilot, (left, top), (right, bottom)) == expected


async def test_a_drag_from_the_question_to_the_reply_copies_both_in_order(app):
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot)
        x, y = find(app, "You")
        end_x, end_y = find(app, "The end.")
        assert await drag(pilot, (x, y), (end_x + len("The end."), end_y)) == WHOLE


async def test_part_of_a_line_and_across_block_boundaries(app):
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot)
        right = reply_columns(app)[1]
        x, y = find(app, "quoted line")
        assert await drag(pilot, (x, y), (right, find(app, "x = 1")[1])) == (
            "quoted line\n\nx = 1")
        # From inside the wrapped paragraph's second row into the list.
        x, y = find(app, "again with")
        assert await drag(pilot, (x, y), (right, find(app, "first item")[1])) == (
            "again with the space the wrap took.\n\n• first item")
        # Within one row, up to and including the character under the pointer.
        x, y = find(app, "second item")
        assert await drag(pilot, (x + 7, y), (x + 10, y)) == "item"


async def test_the_selected_text_is_highlighted(app):
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot)
        x, y = find(app, "x = 1")
        label_x, label_y = find(app, "#1 python")

        def backgrounds() -> list:
            strips = app.screen._compositor.render_strips()
            cells = []
            for row, column in ((y, x), (y, x + 4), (y, x + 6), (label_y, label_x)):
                offset = 0
                for segment in strips[row]:
                    if offset + segment.cell_length > column:
                        cells.append(segment.style.bgcolor)
                        break
                    offset += segment.cell_length
            return cells

        before = backgrounds()
        assert await drag(pilot, (x, y), (x + 4, y)) == "x = 1"
        after = backgrounds()
        panel = app.screen.query_one(StreamingMarkdown).visual_style
        lit = (panel + Style.from_styles(
            app.screen.get_component_styles("screen--selection"))).background
        lit = lit.rich_color.triplet
        assert before[0].triplet != lit
        assert after[0].triplet == after[1].triplet == lit  # "x" and "1"
        assert after[2].triplet != lit  # past the selection
        assert after[3].triplet != lit  # the label is not copied, so not lit


async def test_ctrl_c_copies_the_selection_the_honest_way(app, terminal_env):  # noqa: F811
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot)
        left, right = reply_columns(app)
        _, top = find(app, "name")
        _, bottom = find(app, "a    │ 1")
        selected = await drag(pilot, (left, top), (right, bottom))
        written = capture_terminal(app)
        await pilot.press("ctrl+c")
        (message, severity), = await copied(pilot, app)
        assert app.clipboard == selected == "name | size\na    | 1"
        assert osc52(selected) in "".join(written)
        assert "(OSC 52)" in message and "Copied" not in message


async def test_ctrl_y_copies_the_selection_else_the_reply(app, terminal_env):  # noqa: F811
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot)
        x, y = find(app, "first item")
        assert await drag(pilot, (x, y), (x + 4, y)) == "first"
        await pilot.press("ctrl+y")
        await copied(pilot, app)
        assert app.clipboard == "first"
        await pilot.press("escape")  # clears the selection
        assert app.screen.get_selected_text() is None
        await pilot.press("ctrl+y")
        await copied(pilot, app, 2)
        assert app.clipboard == REPLY


async def test_the_question_with_its_chip_copies_as_shown(app):
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot)
        body = app.screen.query_one(UserBlock).query_one(".block-body")
        x, y = body.region.x, body.region.y
        assert await drag(pilot, (x, y), (x + len(QUESTION) - 1, y)) == QUESTION


async def test_the_block_still_streaming_is_selectable_too(tmp_path, fake_openai):
    # The list is the live block (more may come): its view is redrawn on every update.
    fake_openai.script(Script.reply("Intro.\n\n- first item\n- second item\n- third one",
                                    hold_after=10))
    services = make_services(tmp_path, fake_openai.base_url)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            composer = app.main.composer
            composer.focus()
            composer.insert("a list please")
            await pilot.press("enter")
            await wait_until(pilot, lambda: fake_openai.holding.is_set()
                             and "second item" in screen_text(app), what="the live list")
            left, right = reply_columns(app)
            _, top = find(app, "Intro.")
            _, bottom = find(app, "second item")
            assert await drag(pilot, (left, top), (right, bottom)) == (
                "Intro.\n\n• first item\n• second item")
            fake_openai.release()
            await wait_until(pilot, lambda: not app.main.streams, what="the end of the reply")
            await pilot.pause()
            # The live view made way for the finished block: a new drag reads that one.
            _, top = find(app, "Intro.")
            _, bottom = find(app, "third one")
            assert await drag(pilot, (left, top), (right, bottom)) == (
                "Intro.\n\n• first item\n• second item\n• third one")
    finally:
        await services.aclose()
