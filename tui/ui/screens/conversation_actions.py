"""Actions on one conversation: rename, delete, pin, archive, export, model, system prompt,
context strategy.

Each acts on the highlighted row when the conversation list has focus, else on the open
chat (model, system prompt and strategy always on the open one). Dialogs return through
``push_screen`` callbacks; the export file is written by the core in a thread worker.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from textual import work

from tui.core.export import export_to_file
from tui.core.models import Conversation, Strategy
from tui.core.services import Services
from tui.core.store import NotFound, Store, StoreError
from tui.ui.screens.dialogs import ConfirmScreen, RenameScreen
from tui.ui.screens.live import LiveStreams
from tui.ui.screens.model_picker import ModelPickerScreen
from tui.ui.screens.system_prompt import SystemPromptScreen
from tui.ui.widgets.conversation_list import ConversationList, display_title

log = logging.getLogger(__name__)

STRATEGY_CYCLE = [Strategy.SUMMARIZE, Strategy.TRUNCATE, Strategy.OFF]


class ConversationActionsMixin:
    """The ``action_*`` methods behind the conversation keys; mixed into the main screen,
    which provides the state annotated below (and Textual's ``app``, ``focused``,
    ``notify``)."""

    services: Services
    store: Store
    conversation: Conversation | None
    streams: LiveStreams
    conversation_list: ConversationList
    app: Any
    focused: Any
    notify: Callable[..., None]
    open_conversation: Callable[..., Any]
    _show_empty: Callable[[], Any]
    _is_current: Callable[[str], bool]
    _refresh_status: Callable[[], None]
    _rebuild_meter: Callable[[], None]

    def _target(self) -> Conversation | None:
        """The highlighted row when the list has focus, else the open conversation."""
        listing = self.conversation_list
        if self.focused is listing and listing.highlighted_id is not None:
            try:
                return self.store.get_conversation(listing.highlighted_id)
            except NotFound:
                log.info("the conversation is gone", exc_info=True)
                return None
        return self.conversation

    def _require(self) -> Conversation | None:
        target = self._target()
        if target is None:
            self.notify("No conversation selected.", severity="warning")
        return target

    def action_rename(self) -> None:
        target = self._require()
        if target is None:
            return

        def done(title: str | None) -> None:
            if title is None:
                return
            self.store.rename_conversation(target.id, title)
            if self._is_current(target.id):
                self.conversation = self.store.get_conversation(target.id)
            self.conversation_list.reload()

        self.app.push_screen(RenameScreen(target.title), done)

    def action_delete(self) -> None:
        target = self._require()
        if target is None:
            return

        async def done(yes: bool | None) -> None:
            if not yes:
                return
            live = self.streams.pop(target.id, None)
            if live is not None:
                live.cancel()
            fallback = None
            if self._is_current(target.id):
                fallback = (self.conversation_list.neighbour(target.id, 1)
                            or self.conversation_list.neighbour(target.id, -1))
            self.store.delete_conversation(target.id)
            self.conversation_list.reload()
            if self._is_current(target.id):
                if fallback and fallback != target.id:
                    await self.open_conversation(fallback)
                else:
                    await self._show_empty()
            self.notify(f"Deleted “{display_title(target)}”")

        self.app.push_screen(
            ConfirmScreen(f"Delete “{display_title(target)}”? This cannot be undone."), done)

    def action_pin(self) -> None:
        target = self._require()
        if target is not None:
            self.store.set_pinned(target.id, not target.pinned)
            self.conversation_list.reload()

    def action_archive(self) -> None:
        target = self._require()
        if target is None:
            return
        self.store.set_archived(target.id, not target.archived)
        self.conversation_list.reload()
        verb = "Unarchived" if target.archived else "Archived"
        self.notify(f"{verb} “{display_title(target)}”")

    def action_export(self) -> None:
        conversation = self._require()
        if conversation is not None:
            self._export(conversation)

    @work(thread=True, group="export")
    def _export(self, conversation: Conversation) -> None:
        try:
            path = export_to_file(self.store, conversation, self.services.settings.export_dir)
        except (OSError, StoreError) as error:
            log.exception("export failed")
            self.app.call_from_thread(self.notify, f"Export failed: {error}",
                                      severity="error")
            return
        self.app.call_from_thread(self.notify, f"Exported to {path}")

    def action_pick_model(self) -> None:
        conversation = self.conversation
        current = conversation.model if conversation else self.services.settings.model

        async def load() -> list[str]:
            return [model.id for model in await self.services.client.list_models()]

        def done(model: str | None) -> None:
            if not model:
                return
            if self.conversation is not None:
                self.conversation = self.store.update_conversation(self.conversation.id,
                                                                   model=model)
                self._rebuild_meter()
            else:
                self.services.settings.model = model
                self._refresh_status()
            self.notify(f"Model: {model}")

        self.app.push_screen(ModelPickerScreen(current, load), done)

    def action_edit_system_prompt(self) -> None:
        conversation = self.conversation or self.services.flow.new_conversation()
        if self.conversation is None:
            self.conversation = conversation
            self.conversation_list.reload()
            self.conversation_list.set_current(conversation.id)

        def done(prompt: str | None) -> None:
            if prompt is None:
                return
            self.conversation = self.store.update_conversation(conversation.id,
                                                               system_prompt=prompt)
            self._rebuild_meter()
            self.notify("System prompt saved" if prompt else "System prompt cleared")

        self.app.push_screen(SystemPromptScreen(conversation.system_prompt), done)

    def action_cycle_strategy(self) -> None:
        conversation = self.conversation
        if conversation is None:
            self.notify("Open or start a chat first.", severity="warning")
            return
        index = STRATEGY_CYCLE.index(Strategy(conversation.strategy))
        strategy = STRATEGY_CYCLE[(index + 1) % len(STRATEGY_CYCLE)]
        self.conversation = self.store.update_conversation(conversation.id, strategy=strategy)
        self._rebuild_meter()
        self.notify(f"Context strategy: {strategy.value}")
