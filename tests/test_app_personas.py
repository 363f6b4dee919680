"""Personas in the app (F11): start a chat from one, save one from a chat, edit, rename, delete."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, wait_until
from tui.core.models import Role
from tui.core.personas import Persona, Personas
from tui.ui.screens.dialogs import ConfirmScreen, RenameScreen
from tui.ui.screens.personas import PersonasScreen
from tui.ui.screens.settings import SettingsScreen
from tui.ui.widgets.message_blocks import AssistantBlock


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


async def open_personas(pilot, count: int) -> PersonasScreen:
    await pilot.press("f11")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PersonasScreen)
                     and pilot.app.screen.query_one("#persona-list").option_count == count,
                     what="the personas list")
    return pilot.app.screen


async def test_a_chat_started_from_a_persona_sends_its_settings(services, fake_openai):
    Personas(services.store).add(Persona(
        name="Pirate", model="gpt-4.1", system_prompt="Talk like a pirate.", temperature=1.3,
        top_p=0.6, max_output_tokens=90, json_output=True, extra_params={"top_k": 9}))
    Personas(services.store).add(Persona(name="Another"))
    fake_openai.script(Script.reply('{"arr": 1}'))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_personas(pilot, 2)
        await pilot.press("down", "enter")  # "Another" sorts first
        await wait_until(pilot, lambda: app.screen is app.main)
        assert app.main.new_chat is not None and app.main.new_chat.model == "gpt-4.1"
        composer = app.main.composer
        composer.insert("Ahoy")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.main.streams and app.main.pane.query(
            AssistantBlock), what="the reply")
    body = fake_openai.chat_requests()[-1]
    assert body["model"] == "gpt-4.1"
    assert body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == \
        (1.3, 0.6, 90, 9)
    assert body["response_format"] == {"type": "json_object"}


async def test_save_the_open_chats_settings_then_edit_rename_delete(services, fake_openai):
    store = services.store
    chat = store.create_conversation(model="gpt-4o", title="Tuned", system_prompt="Be terse.",
                                     temperature=0.1, extra_params={"min_p": 0.2})
    store.append_message(chat.id, Role.USER, "hi")
    personas = Personas(store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await app.main.open_conversation(chat.id)
        screen = await open_personas(pilot, 0)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        assert form.query_one("#set-temperature", Input).value == "0.1"
        form.query_one("#set-name", Input).value = "Terse"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen
                         and screen.query_one("#persona-list").option_count == 1)
        saved = personas.get("terse")
        assert (saved.model, saved.system_prompt, saved.temperature, saved.extra_params) == \
            ("gpt-4o", "Be terse.", 0.1, {"min_p": 0.2})

        await pilot.press("e")  # edit: a refused value stays in the form
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        form.query_one("#set-temperature", Input).value = "7"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and personas.get("Terse").temperature == 0.1
        form.query_one("#set-temperature", Input).value = "0.9"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        await wait_until(pilot, lambda: personas.get("Terse").temperature == 0.9)

        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen))
        app.screen.query_one(Input).value = "Brief"
        await pilot.press("enter")
        await wait_until(pilot, lambda: [p.name for p in personas.list()] == ["Brief"])

        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: personas.list() == [])
        # The chat the persona came from is untouched.
        assert store.get_conversation(chat.id).temperature == 0.1
