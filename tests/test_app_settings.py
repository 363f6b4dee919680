"""The chat settings form (F7) in the app: values refused with the reason, saved ones sent."""

from __future__ import annotations

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, wait_until
from tui.ui.screens.settings import SettingsScreen
from tui.ui.widgets.message_blocks import AssistantBlock
from textual.widgets import Input, Label, TextArea


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


async def open_settings(pilot) -> SettingsScreen:
    await pilot.press("f7")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen),
                     what="the settings screen")
    await pilot.pause()
    return pilot.app.screen


def fill(screen: SettingsScreen, field_id: str, value: str) -> None:
    screen.query_one(f"#{field_id}", Input).value = value


async def send(pilot, text: str) -> None:
    composer = pilot.app.main.composer
    composer.focus()
    composer.insert(text)
    await pilot.press("enter")


async def test_settings_saved_in_the_form_reach_the_request(services, fake_openai):
    fake_openai.script(Script.reply('{"ok": 1}'), Script.reply('{"ok": 2}'))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)  # on the new, unsaved chat
        fill(screen, "set-model", "gpt-4.1")
        screen.query_one("#set-system", TextArea).text = "Reply in JSON."
        fill(screen, "set-temperature", "0.25")
        fill(screen, "set-top-p", "0.5")
        fill(screen, "set-max-tokens", "200")
        fill(screen, "set-window", "8k")
        screen.query_one("#set-json").value = True
        fill(screen, "param-name-0", "top_k")
        fill(screen, "param-value-0", "33")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await send(pilot, "hello")
        await wait_until(pilot, lambda: not app.main.streams and app.main.pane.query(
            AssistantBlock), what="the reply")
        body = fake_openai.chat_requests()[-1]
        assert body["model"] == "gpt-4.1"
        assert body["messages"][0] == {"role": "system", "content": "Reply in JSON."}
        assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == \
            (0.25, 0.5, 200, 33)
        assert body["response_format"] == {"type": "json_object"}
        stored = services.store.get_conversation(app.main.conversation.id)
        assert stored.context_window == 8192 and stored.extra_params == {"top_k": 33}

        # The stored chat: the form shows its values; a change is saved and sent.
        screen = await open_settings(pilot)
        assert screen.query_one("#set-temperature", Input).value == "0.25"
        assert screen.query_one("#param-value-0", Input).value == "33"
        fill(screen, "set-temperature", "")  # back to the server's default
        fill(screen, "param-name-0", "")
        fill(screen, "param-value-0", "")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await send(pilot, "again")
        await wait_until(pilot, lambda: len(fake_openai.chat_requests()) == 2
                         and not app.main.streams, what="the second reply")
        body = fake_openai.chat_requests()[-1]
        assert "temperature" not in body and "top_k" not in body and body["top_p"] == 0.5


@pytest.mark.parametrize("field_id, value, reason", [
    ("set-temperature", "2.5", "temperature must be between 0 and 2"),
    ("set-top-p", "abc", "top_p must be a number"),
    ("set-max-tokens", "-3", "max tokens must be a positive whole number"),
    ("set-window", "huge", "context window must be a positive number"),
    ("param-name-0", "max_tokens", "clashes with a field"),
    ("param-value-0", "[1, 2]", "must be a string, a number or true/false"),
])
async def test_an_invalid_value_is_refused_in_the_form_with_the_reason(
        services, fake_openai, field_id, value, reason):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        if field_id == "param-value-0":
            fill(screen, "param-name-0", "top_k")
        fill(screen, field_id, value)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen, "the form stays open"
        assert reason in str(screen.query_one("#settings-error", Label).render())
        assert screen.query_one(f"#{field_id}").has_class("-refused")
        assert screen.focused is screen.query_one(f"#{field_id}")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main)
        assert app.main.new_chat is not None and app.main.new_chat.temperature is None
    assert services.store.list_conversations() == []


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_save_and_cancel_stay_on_a_small_screen(services, size):
    """At 80x24 the form's fixed 20 rows pushed Save and Cancel below the screen: Tab
    reached them unseen, and only Ctrl+S was left to save."""
    app = make_app(services)
    async with app.run_test(size=size) as pilot:
        screen = await open_settings(pilot)
        await pilot.pause()
        for button_id in ("#settings-save", "#settings-cancel"):
            button = screen.query_one(button_id)
            region = button.region
            assert region.height >= 1 and region.bottom <= size[1], (button_id, region)
            assert app.screen.get_widget_at(region.x + 1, region.y)[0] is button
