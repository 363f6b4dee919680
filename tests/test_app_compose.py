"""Pilot tests of composing: earlier prompts (↑/↓ and the alt+r search), large pastes as
chips (the whole text sent and counted), and the $EDITOR key."""

from __future__ import annotations

import pytest
from textual import events

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.models import Role
from tui.ui.screens.history_picker import HistoryPickerScreen
from tui.ui.widgets.composer import PASTE_LINES


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    store = services.store
    other = store.create_conversation(model="gpt-4o-mini", title="Other")
    store.append_message(other.id, Role.USER, "from another chat")
    store.append_message(other.id, Role.ASSISTANT, "ok")
    this = store.create_conversation(model="gpt-4o-mini", title="This")
    for prompt in ("first here", "second here"):
        store.append_message(this.id, Role.USER, prompt)
        store.append_message(this.id, Role.ASSISTANT, "ok")
    store.append_message(other.id, Role.USER, "newest, but elsewhere")
    store.touch_conversation(this.id)
    yield services
    await services.aclose()


async def history_loaded(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.main.composer.prompts, what="the prompt history")


async def test_up_recalls_this_chats_prompts_first_then_the_others(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await history_loaded(pilot)
        assert app.main.conversation.title == "This"
        seen = []
        for _ in range(5):
            await pilot.press("up")
            seen.append(composer.text)
        assert seen == ["second here", "first here", "newest, but elsewhere",
                        "from another chat", "from another chat"]
        await pilot.press("down", "down")
        assert composer.text == "first here"
        await pilot.press("down", "down")
        assert composer.text == ""
        await pilot.press("down")  # nothing newer than the empty draft
        assert composer.text == ""


async def test_an_edited_recall_gives_the_arrows_back_to_the_cursor(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await history_loaded(pilot)
        await pilot.press("up")
        await pilot.press("end", "!")
        assert composer.text == "second here!"
        await pilot.press("up")
        assert composer.text == "second here!"


async def test_a_sent_prompt_is_the_next_recall(services, fake_openai):
    fake_openai.script(Script.reply("sure"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await history_loaded(pilot)
        composer.insert("a brand new question")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "sure" in screen_text(app), what="the reply")
        await pilot.press("up")
        assert composer.text == "a brand new question"


async def test_history_search_filters_and_recalls(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await history_loaded(pilot)
        await pilot.press("alt+r")
        assert isinstance(app.screen, HistoryPickerScreen)
        await pilot.press(*"another", "enter")
        assert app.main.composer.text == "from another chat"


PASTE = "\n".join(f"line {i} of the pasted log" for i in range(1, 1244))


async def test_a_large_paste_is_a_chip_and_the_whole_text_is_sent(services, fake_openai):
    fake_openai.script(Script.reply("read it"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await history_loaded(pilot)
        composer.insert("Look at this: ")
        app.post_message(events.Paste(PASTE))
        await pilot.pause()
        assert composer.text == "Look at this: [pasted 1,243 lines]"
        assert composer.full_text == "Look at this: " + PASTE
        assert "[pasted 1,243 lines]" in screen_text(app)
        # The meter counts the whole paste, not the chip.
        meter = app.main.meter
        await wait_until(pilot, lambda: app.main.status.reading == meter.reading(
            composer.full_text), what="the meter to count the paste")
        assert meter.reading(composer.full_text).tokens > meter.reading(composer.text).tokens
        await pilot.press("enter")
        await wait_until(pilot, lambda: fake_openai.chat_requests(), what="the request")
        assert fake_openai.chat_requests()[0]["messages"][-1]["content"] == (
            "Look at this: " + PASTE)
        await wait_until(pilot, lambda: composer.text == "", what="the composer cleared")


async def test_a_small_paste_is_plain_text_and_chips_expand(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        small = "\n".join(["x"] * PASTE_LINES)
        app.post_message(events.Paste(small))
        await pilot.pause()
        assert composer.text == small, repr(composer.text)
        composer.clear()
        app.post_message(events.Paste("y" * 2001))
        app.post_message(events.Paste("z" * 2001))
        await pilot.pause()
        assert composer.text == "[pasted 2,001 characters][pasted 2,001 characters #2]"
        await pilot.press("alt+e")
        assert composer.text == "y" * 2001 + "z" * 2001


async def test_the_editor_key_where_the_terminal_cannot_be_handed_over(services):
    # Pilot's headless driver cannot suspend: the draft stays and the user is told.
    # tests/terminal/test_editor.py runs a real editor in a real terminal.
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        app.main.composer.insert("keep me")
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert app.main.composer.text == "keep me"
        assert any("editor" in n.message and n.severity == "error"
                   for n in app._notifications)


@pytest.mark.parametrize(("key", "screen_type"), [("alt+r", "HistoryPickerScreen")])
async def test_an_alt_key_as_a_terminal_sends_it_runs_its_action(services, key, screen_type):
    """A terminal sends Alt+R as ESC r: Textual makes it alt+r with the character "r", and
    the composer typed the "r" instead of opening the history (pilot.press sends no
    character, so the test above could not see it)."""
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await history_loaded(pilot)
        app.post_message(events.Key(key, key[-1]))
        await pilot.pause()
        await pilot.pause()
        assert type(app.screen).__name__ == screen_type
        assert "r" not in app.main.composer.text

