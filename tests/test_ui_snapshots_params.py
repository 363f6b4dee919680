"""Snapshots of the chat settings form, the personas list and the usage panel.

Built like tests/test_ui_snapshots.py: fixed database content, a fixed "now", a fixed size,
every cursor blink frozen before the capture, and nothing that depends on timing (the usage
rows are seeded with fixed figures and dates, not measured).
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.test_app_support import wait_until
from tests.test_ui_snapshots import ready, seeded_services, settle, snapshot
from tui.core.models import Role
from tui.core.personas import Persona, Personas
from tui.core.pricing import Price
from tui.ui.screens.personas import PersonasScreen
from tui.ui.screens.settings import SettingsScreen
from tui.ui.screens.usage_panel import UsagePanelScreen

SIZE = (100, 34)


def tuned_services(tmp_path):
    """The seeded chats; the newest (opened at start) with every setting set."""
    services = seeded_services(tmp_path)
    store = services.store
    newest = store.latest_conversation()
    assert newest is not None
    store.update_conversation(
        newest.id, system_prompt="You are a patient Python tutor.\nShow short examples.",
        temperature=0.4, top_p=0.9, max_output_tokens=800, context_window=16384,
        json_output=True, extra_params={"top_k": 40, "min_p": 0.05},
        updated=newest.updated)
    return services


def test_settings_screen(snap_compare, tmp_path):
    async def open_settings(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen),
                         what="the settings form")
        await pilot.pause()
        await settle(pilot)

    assert snapshot(snap_compare, tuned_services(tmp_path), size=SIZE,
                    run_before=open_settings)


def test_personas_list(snap_compare, tmp_path):
    services = tuned_services(tmp_path)
    personas = Personas(services.store)
    personas.add(Persona(name="Code reviewer", model="gpt-4.1", temperature=0.2,
                         system_prompt="Review the code for bugs first, style last."))
    personas.add(Persona(name="JSON extractor", json_output=True, temperature=0,
                         extra_params={"top_k": 1},
                         system_prompt="Return the fields asked for as one JSON object."))
    personas.add(Persona(name="Pirate", model="llama3.1:8b", top_p=0.95,
                         system_prompt="Talk like a pirate."))

    async def open_personas(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f11")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PersonasScreen)
                         and pilot.app.screen.query_one("#persona-list").option_count == 3,
                         what="the personas")
        await settle(pilot)

    assert snapshot(snap_compare, services, size=SIZE, run_before=open_personas)


def usage_services(tmp_path):
    services = seeded_services(tmp_path)
    store = services.store
    figures = {"Python squares": (1200, 300, 1000, "2026-03-02T11:58:00.000Z"),
               "Weekend hiking plan": (5400, 900, 0, "2026-03-01T09:00:00.000Z"),
               "Pinned reference": (800, 120, None, "2026-02-10T09:00:00.000Z")}
    for conversation in store.list_conversations():
        for message in store.load_messages(conversation.id):
            if message.role != Role.ASSISTANT or conversation.title not in figures:
                continue
            prompt, completion, cached, created = figures[conversation.title]
            store.update_message(message.id, prompt_tokens=prompt,
                                 completion_tokens=completion, cached_tokens=cached,
                                 server="https://api.openai.com/v1")
            store.conn.execute("UPDATE messages SET created = ? WHERE id = ?",
                               (created, message.id))
    # "[bold]Literal title": a local server that reported no usage.
    services.settings.prices = {"gpt-4o-mini": Price(input=0.15, output=0.60, cached=0.075)}
    return services


def test_usage_panel(snap_compare, tmp_path):
    async def open_usage(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, UsagePanelScreen)
                         and pilot.app.screen.query_one(DataTable).row_count == 4,
                         what="the usage rows")
        await settle(pilot)

    assert snapshot(snap_compare, usage_services(tmp_path), size=SIZE, run_before=open_usage)
