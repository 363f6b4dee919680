"""Text the app did not write (replies, titles, model names, recalled messages) reaches the
terminal neither as markup nor as control characters, in the places a first sweep missed:
the command palette's code-block entries, notifications, and the text fields (Input and
TextArea draw what they hold as it is)."""

from __future__ import annotations

from rich.segment import ControlType, Segment
from textual.command import CommandPalette
from textual.strip import Strip
from textual.widgets import Input
from textual.widgets._toast import Toast

from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.models import Role
from tui.ui.screens.dialogs import RenameScreen
from tui.ui.widgets.safe_fields import without_controls

ESCAPES = "\x1b[31mred\x1b[0m \u202eflip\u202c"


def drawn(widget) -> str:
    return "".join(strip.text for strip in widget.render_lines(widget.region.reset_offset))


def chat(services, title: str, reply: str):
    store = services.store
    conversation = store.create_conversation(model="gpt-4o-mini", title=title)
    store.append_message(conversation.id, Role.USER, f"say {ESCAPES}")
    store.append_message(conversation.id, Role.ASSISTANT, reply, model="gpt-4o-mini")
    return conversation


def test_without_controls_drops_them_and_keeps_the_rest():
    strip = Strip([Segment("a\x1b[31mb\u202ec\td", None),
                   Segment("\x1b[H", None, [(ControlType.HOME,)])])
    cleaned = without_controls(strip)
    assert [s.text for s in cleaned] == ["a[31mbc\td", "\x1b[H"]  # control segments kept
    plain = Strip([Segment("nothing here", None)])
    assert without_controls(plain) is plain


async def test_the_palette_lists_a_code_block_whose_first_line_is_markup(tmp_path):
    # "[/]" as a code block's first line ended the app when the palette opened.
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    chat(services, "Code", "Here:\n\n```\n[/] [@click=app.quit]x[/]\x1b[31m\n```\n")
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"code")
            await pilot.pause(0.3)
            text = screen_text(app)
            assert "Copy code block #1: [/] [@click=app.quit]x[/]␛[31m" in text
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette))
    finally:
        await services.aclose()


async def test_notifications_show_control_characters_as_symbols(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.screen.notify(f"model {ESCAPES}", title=f"t\x1b]0;x\x07")
            await pilot.pause()
            [note] = list(app._notifications)
            assert "\x1b" not in note.title and "\x07" not in note.title
            note.title = ""  # an unmounted Toast cannot style a title
            shown = str(Toast(note).render())
            assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
            assert "model ␛[31mred␛[0m" in shown
    finally:
        await services.aclose()


async def test_fields_holding_stored_text_draw_no_control_characters(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    chat(services, f"title {ESCAPES}", "fine")
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.main.open_conversation(services.store.list_conversations()[0].id)
            await pilot.pause()
            # The composer recalls the last message sent (Up in an empty composer).
            composer = app.main.composer
            composer.focus()
            await pilot.press("up")
            await wait_until(pilot, lambda: composer.text == f"say {ESCAPES}")
            shown = drawn(composer)
            assert "say [31mred[0m flip" in shown
            assert not any(ch in shown for ch in "\x1b\u202e\u202c")
            # The rename dialog shows the stored title, and saves it unchanged.
            await pilot.press("f2")
            await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen))
            field = app.screen.query_one(Input)
            assert field.value == f"title {ESCAPES}"
            await pilot.pause()
            shown = drawn(field)
            assert "title [31mred[0m flip" in shown and "\x1b" not in shown
    finally:
        await services.aclose()
