"""Copy mode on the messages pane: a keyboard cursor over the conversation's text, vi motions
and Shift+arrows to select, y to copy."""

from __future__ import annotations

import pytest

from tests.test_app_support import SIZE, make_app, make_services
from tui.core.models import Role
from tui.ui.screens.copy_mode import CopyArea, CopyModeScreen

ANSWER = "First line of the answer.\nSecond line, with words.\nThird."


@pytest.fixture
async def services(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    chat = services.store.create_conversation(model="gpt-4o-mini", title="Copy mode")
    services.store.append_message(chat.id, Role.USER, "a question")
    services.store.append_message(chat.id, Role.ASSISTANT, ANSWER)
    yield services
    await services.aclose()


async def enter_copy_mode(pilot) -> CopyArea:
    await pilot.press("ctrl+o", "v")
    assert isinstance(pilot.app.screen, CopyModeScreen)
    return pilot.app.screen.query_one(CopyArea)


async def test_opens_at_the_focused_message_and_vi_motions_select(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        area = await enter_copy_mode(pilot)
        assert area.text == f"You:\na question\n\nAssistant:\n{ANSWER}"
        assert area.cursor_location == (3, 0)  # "Assistant:", the focused reply
        await pilot.press("j", "v", "$", "y")
        assert app.clipboard == "First line of the answer."
        assert not isinstance(app.screen, CopyModeScreen)


async def test_words_lines_and_the_cursor_line_by_default(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await enter_copy_mode(pilot)
        await pilot.press("j", "j", "w", "v", "w", "w", "y")
        assert app.clipboard == " line, "  # TextArea's word motions: to the end of words
        await enter_copy_mode(pilot)
        await pilot.press("g", "j", "y")  # nothing selected: the cursor's line
        assert app.clipboard == "a question"


async def test_shift_arrows_select_too_and_escape_leaves(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await enter_copy_mode(pilot)
        await pilot.press("G", "0", "shift+up", "y")
        assert app.clipboard == "Second line, with words.\n"
        await enter_copy_mode(pilot)
        await pilot.press("escape")
        assert not isinstance(app.screen, CopyModeScreen)


async def test_control_characters_show_as_symbols_and_copy_as_stored(tmp_path):
    # A TextArea writes what it holds to the terminal: a reply's ESC [31m recoloured the
    # terminal and a right-to-left override reordered what copy mode showed.
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    chat = services.store.create_conversation(model="gpt-4o-mini", title="Escapes")
    services.store.append_message(chat.id, Role.USER, "a question")
    services.store.append_message(chat.id, Role.ASSISTANT,
                                  "red \x1b[31mtext\x1b[0m here\nflip \u202eabc\u202c end\rok")
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            area = await enter_copy_mode(pilot)
            assert "\x1b" not in area.text and "\u202e" not in area.text
            assert "red ␛[31mtext␛[0m here" in area.text
            lines = [strip.text for strip in area.render_lines(area.region.reset_offset)]
            assert not any(ch in line for line in lines for ch in "\x1b\u202e\r")
            await pilot.press("j", "v", "$", "y")
            assert app.clipboard == "red \x1b[31mtext\x1b[0m here"
            await enter_copy_mode(pilot)
            await pilot.press("j", "j", "l", "l", "l", "l", "l", "v", "$", "y")
            assert app.clipboard == "\u202eabc\u202c end\rok"
    finally:
        await services.aclose()
