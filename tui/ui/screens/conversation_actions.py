"""Actions on one conversation: send, regenerate / retry, rename, delete, pin, archive,
export, model, system prompt, context strategy.

A plain helper the main screen holds (not a mixin): it works through the screen's public
surface only (``conversation``, ``sidebar``, ``streams``, ``open_conversation``...). Each
action targets the highlighted row when the conversation list has focus, else the open chat
(model, system prompt and strategy always the open one). Every store write runs in a thread,
so a second instance holding the database lock never freezes the screen.

The dialogs, pickers and the exporter are imported when an action first needs them: the
first frame of the app shows none of them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from tui.core.config import ConfigError, save_default_model
from tui.core.models import Conversation, Strategy
from tui.core.params import CHAT_SETTINGS
from tui.core.session import new_conversation_spec
from tui.core.usage import usage_totals
from tui.core.services import Services
from tui.core.store import NotFound, StoreError
from tui.ui.widgets.conversation_list import display_title

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from tui.core.personas import Persona
    from tui.ui.screens.main import MainScreen
    from tui.ui.screens.model_picker import ModelChoice
    from tui.ui.screens.settings import SettingsResult

STRATEGY_CYCLE = [Strategy.SUMMARIZE, Strategy.TRUNCATE, Strategy.OFF]


async def in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, *args, **kwargs)


class ConversationActions:
    def __init__(self, screen: MainScreen, services: Services) -> None:
        self.screen = screen
        self.services = services
        self.store = services.store

    def _notify(self, text: str, **kwargs: Any) -> None:
        self.screen.notify(text, **kwargs)

    async def _target(self) -> Conversation | None:
        """The highlighted row when the list has focus, else the open conversation."""
        listing = self.screen.sidebar.conversation_list
        if self.screen.focused is listing and listing.highlighted_id is not None:
            try:
                return await in_thread(self.store.get_conversation, listing.highlighted_id)
            except NotFound:
                return None
        return self.screen.conversation

    async def _require(self) -> Conversation | None:
        target = await self._target()
        if target is None:
            self._notify("No conversation selected.", severity="warning")
        return target

    async def _changed(self, conversation_id: str) -> None:
        """A stored conversation changed: the list shows it, and so does the open chat."""
        if self.screen.is_open(conversation_id):
            self.screen.conversation = await in_thread(self.store.get_conversation,
                                                       conversation_id)
        if not self.screen.is_attached:  # the app quit while the store was read or written
            return
        self.screen.refresh_sidebar()

    async def _write(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        try:
            await in_thread(call, *args, **kwargs)
        except StoreError as error:
            log.exception("store write failed")
            self._notify(str(error), severity="error")
            return False
        return True

    async def rename(self) -> None:
        target = await self._require()
        if target is None:
            return

        async def done(title: str | None) -> None:
            if title is not None and await self._write(self.store.rename_conversation,
                                                       target.id, title):
                await self._changed(target.id)

        from tui.ui.screens.dialogs import RenameScreen

        self.screen.app.push_screen(RenameScreen(target.title), done)

    async def delete(self) -> None:
        target = await self._require()
        if target is None:
            return

        async def done(yes: bool | None) -> None:
            if not yes:
                return
            # A reply streaming into it stops first, quietly: the core stores the partial
            # reply on the way out, and only then is the whole conversation deleted.
            await self.screen.streams.stop(target.id)
            listing = self.screen.sidebar.conversation_list
            fallback = None
            if self.screen.is_open(target.id):
                fallback = (await listing.neighbour(target.id, 1)
                            or await listing.neighbour(target.id, -1))
            if not await self._write(self.store.delete_conversation, target.id):
                return
            self.screen.refresh_sidebar()
            if self.screen.is_open(target.id):
                if fallback and fallback != target.id:
                    await self.screen.open_conversation(fallback)
                else:
                    await self.screen.show_new_chat()
            self._notify(f"Deleted “{display_title(target)}”")

        from tui.ui.screens.dialogs import ConfirmScreen

        self.screen.app.push_screen(
            ConfirmScreen(f"Delete “{display_title(target)}”? This cannot be undone."), done)

    async def pin(self) -> None:
        target = await self._require()
        if target is not None and await self._write(self.store.set_pinned, target.id,
                                                    not target.pinned):
            await self._changed(target.id)

    async def archive(self) -> None:
        target = await self._require()
        if target is None or not await self._write(self.store.set_archived, target.id,
                                                   not target.archived):
            return
        await self._changed(target.id)
        verb = "Unarchived" if target.archived else "Archived"
        self._notify(f"{verb} “{display_title(target)}”")

    async def export(self) -> None:
        from tui.core.export import export_to_file

        conversation = await self._require()
        if conversation is None:
            return
        try:
            path = await in_thread(export_to_file, self.store, conversation,
                                   self.services.settings.export_dir)
        except (OSError, StoreError) as error:
            log.exception("export failed")
            self._notify(f"Export failed: {error}", severity="error")
            return
        self._notify(f"Exported to {path}")

    async def _edit_open(self, **fields: Any) -> bool:
        """Change the open chat: the stored one, or the unsaved one's spec (nothing stored)."""
        open_chat, spec = self.screen.conversation, self.screen.new_chat
        if open_chat is not None:
            if not await self._write(self.store.update_conversation, open_chat.id, **fields):
                return False
            await self._changed(open_chat.id)
        elif spec is not None:
            self.screen.new_chat = replace(spec, **fields)
        return True

    def _open_settings(self) -> Conversation | None:
        """The open chat as it is or will be stored (None: nothing on screen)."""
        spec = self.screen.new_chat
        return self.screen.conversation or (spec.unsaved() if spec is not None else None)

    def pick_model(self) -> None:
        conversation = self._open_settings()
        current = conversation.model if conversation else self.services.settings.model

        async def load() -> list[str]:
            return [model.id for model in await self.services.client.list_models()]

        async def done(choice: ModelChoice | None) -> None:
            if choice is None or not choice.model:
                return
            if not await self._edit_open(model=choice.model):
                return
            if choice.make_default:
                await self._make_default(choice.model)
            else:
                self._notify(f"Model: {choice.model}")

        from tui.ui.screens.model_picker import ModelPickerScreen

        self.screen.app.push_screen(ModelPickerScreen(current, load), done)

    async def _make_default(self, model: str) -> None:
        settings = self.services.settings
        try:
            path = await in_thread(save_default_model, settings, model)
        except (ConfigError, OSError) as error:
            log.exception("saving the default model failed")
            self._notify(f"Could not make {model} the default: {error}", severity="error")
            return
        self.screen.status.set_defaults(model, str(settings.strategy.value))
        self._notify(f"Model: {model}, now the default for new chats (saved to {path})")

    async def edit_system_prompt(self) -> None:
        target = self._open_settings()
        if target is None:
            self._notify("Open or start a chat first.", severity="warning")
            return

        async def done(prompt: str | None) -> None:
            if prompt is None or not await self._edit_open(system_prompt=prompt):
                return
            self._notify("System prompt saved" if prompt else "System prompt cleared")

        from tui.ui.screens.system_prompt import SystemPromptScreen

        self.screen.app.push_screen(SystemPromptScreen(target.system_prompt), done)

    async def cycle_strategy(self) -> None:
        conversation = self._open_settings()
        if conversation is None:
            self._notify("Open or start a chat first.", severity="warning")
            return
        index = STRATEGY_CYCLE.index(Strategy(conversation.strategy))
        strategy = STRATEGY_CYCLE[(index + 1) % len(STRATEGY_CYCLE)]
        if await self._edit_open(strategy=strategy):
            self._notify(f"Context strategy: {strategy.value}")

    async def edit_settings(self) -> None:
        """The settings form (F7) for the open chat: stored, or kept on the unsaved one."""
        target = self._open_settings()
        if target is None:
            self._notify("Open or start a chat first.", severity="warning")
            return
        current = {name: getattr(target, name) for name in CHAT_SETTINGS}

        async def done(result: SettingsResult | None) -> None:
            if result is None:
                return
            changes = {k: v for k, v in result.values.items() if current.get(k) != v}
            if changes and await self._edit_open(**changes):
                self._notify("Chat settings saved")

        title = f"Chat settings: {display_title(target)}" if target.id else "New chat settings"
        from tui.ui.screens.settings import SettingsScreen

        self.screen.app.push_screen(SettingsScreen(current, title=title), done)

    def personas(self) -> None:
        """The personas list (F11); picking one starts a new chat with its settings."""
        target = self._open_settings()
        current = ({name: getattr(target, name) for name in CHAT_SETTINGS}
                   if target is not None else None)

        async def done(persona: Persona | None) -> None:
            if persona is None:
                return
            spec = replace(new_conversation_spec(self.services.settings), **persona.settings())
            await self.screen.show_new_chat(spec)
            self.screen.set_focus(self.screen.composer)
            self._notify(f"New chat as “{persona.name}”")

        from tui.core.personas import Personas
        from tui.ui.screens.personas import PersonasScreen

        self.screen.app.push_screen(PersonasScreen(Personas(self.store), current), done)

    def usage_panel(self) -> None:
        """Tokens and estimated cost per conversation, day or month (F12)."""
        from tui.ui.screens.usage_panel import UsagePanelScreen

        store, prices = self.store, self.services.settings.prices
        self.screen.app.push_screen(UsagePanelScreen(
            lambda by: usage_totals(store, prices, by=by)))
