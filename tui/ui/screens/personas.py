"""The personas list (F11): start a chat from one, save the open chat's settings as one,
edit, rename or delete them.

The screen owns the list; every store call runs in a thread through the core's
:class:`tui.core.personas.Personas`, and a refusal (a taken name, a bad value) is a
notification, never a crash. It dismisses with the persona to start a new chat from, or None.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from tui.ui.screens.dialog_base import Dialog
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.core.personas import Persona, PersonaError, Personas
from tui.core.store import StoreError
from tui.ui import keys
from tui.ui.screens.dialogs import ConfirmScreen, RenameScreen
from tui.ui.screens.settings import SettingsResult, SettingsScreen
from tui.ui.widgets.literal import one_line

log = logging.getLogger(__name__)

SNIPPET = 48


def persona_line(persona: Persona) -> Content:
    """Name, model, temperature and the start of the system prompt, on one row."""
    facts = [persona.model or "session model"]
    if persona.temperature is not None:
        facts.append(f"temp {persona.temperature:g}")
    if persona.json_output:
        facts.append("JSON")
    if persona.extra_params:
        facts.append(f"{len(persona.extra_params)} param"
                     + ("s" if len(persona.extra_params) != 1 else ""))
    prompt = one_line(" ".join(persona.system_prompt.split()))
    if len(prompt) > SNIPPET:
        prompt = prompt[:SNIPPET - 1] + "…"
    return Content.assemble((one_line(persona.name), "bold"), "  ",
                            (" · ".join(one_line(f) for f in facts), "$text-muted"),
                            *(("  ", (prompt, "italic")) if prompt else ()))


class PersonasScreen(Dialog[Persona | None]):
    BINDINGS = keys.PERSONAS

    def __init__(self, personas: Personas, current: dict[str, Any] | None) -> None:
        """``current``: the open chat's settings, for "save as persona" (None: no chat)."""
        super().__init__(classes="dialog-screen")
        self.personas = personas
        self._current = current
        self._shown: list[Persona] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="personas-dialog"):
            yield Label("Personas", classes="dialog-title")
            yield OptionList(id="persona-list")
            yield Label("", id="persona-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.reload()

    @work(exclusive=True, group="personas")
    async def reload(self, select: str | None = None) -> None:
        try:
            personas = await asyncio.to_thread(self.personas.list)
        except StoreError as error:
            log.exception("listing the personas failed")
            self.notify(f"Could not list the personas: {error}", severity="error")
            personas = []
        self._shown = personas
        options = self.query_one(OptionList)
        options.set_options(Option(persona_line(p), id=p.name) for p in personas)
        hint = ("Enter: new chat with it · n: save this chat's settings as a persona · "
                "e: edit · r: rename · d: delete")
        if not personas:
            hint = ("No personas yet. Press n to save the open chat's settings (model, "
                    "system prompt, parameters) as one.")
        self.query_one("#persona-hint", Label).update(hint)
        if personas:
            names = [p.name.lower() for p in personas]
            wanted = select.lower() if select else None
            options.highlighted = names.index(wanted) if wanted in names else 0

    def _highlighted(self) -> Persona | None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is None or not 0 <= index < len(self._shown):
            self.notify("No persona selected.", severity="warning")
            return None
        return self._shown[index]

    async def _call(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        """A core call in a thread; a refusal is a notification and returns None."""
        try:
            return await asyncio.to_thread(action, *args, **kwargs)
        except (PersonaError, StoreError) as error:
            self.notify(str(error), severity="error")
            return None

    # -- actions ----------------------------------------------------------------------------

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_start()

    def action_start(self) -> None:
        persona = self._highlighted()
        if persona is not None:
            self.dismiss(persona)

    def action_create(self) -> None:
        if self._current is None:
            self.notify("Open or start a chat first: its settings make the persona.",
                        severity="warning")
            return

        async def done(result: SettingsResult | None) -> None:
            if result is None or result.name is None:
                return
            saved = await self._call(self.personas.add,
                                     Persona(name=result.name, **result.values))
            if saved is not None:
                self.notify(f"Saved persona “{saved.name}”")
                self.reload(saved.name)

        self.app.push_screen(SettingsScreen(
            dict(self._current), title="New persona from this chat's settings", name="",
            model_optional=True), done)

    def action_edit(self) -> None:
        persona = self._highlighted()
        if persona is None:
            return

        async def done(result: SettingsResult | None) -> None:
            if result is None:
                return
            name = persona.name
            if result.name and result.name != persona.name:
                renamed = await self._call(self.personas.rename, persona.name, result.name)
                if renamed is None:
                    return
                name = renamed.name
            if await self._call(self.personas.update, name, **result.values) is not None:
                self.notify(f"Saved persona “{name}”")
            self.reload(name)

        self.app.push_screen(SettingsScreen(
            persona.settings() | {"model": persona.model}, title=f"Persona: {persona.name}",
            name=persona.name, model_optional=True), done)

    def action_rename(self) -> None:
        persona = self._highlighted()
        if persona is None:
            return

        async def done(name: str | None) -> None:
            if name and name != persona.name:
                renamed = await self._call(self.personas.rename, persona.name, name)
                if renamed is not None:
                    self.reload(renamed.name)

        self.app.push_screen(RenameScreen(persona.name, heading="Rename persona"), done)

    def action_delete(self) -> None:
        persona = self._highlighted()
        if persona is None:
            return

        async def done(yes: bool | None) -> None:
            deleted = yes and await self._call(
                lambda: self.personas.delete(persona.name) or True)
            if deleted:
                self.notify(f"Deleted persona “{persona.name}”")
                self.reload()

        self.app.push_screen(ConfirmScreen(
            f"Delete the persona “{persona.name}”? Chats started from it keep their "
            f"settings."), done)

    def action_close(self) -> None:
        self.dismiss(None)
