"""The main screen's help for longer input: earlier prompts (↑ recall and the alt+r search)
and the draft in the user's editor.

The prompt list is read off the event loop (``Store.prompt_history`` in a thread) when a
chat opens, and grows by each prompt sent; the editor runs with the terminal handed over
(``App.suspend``), which is the one time the app waits for something else on purpose.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported
from textual.css.query import NoMatches

from tui.core.attachments import AttachmentError, fuzzy_rank, list_files, read_attachment
from tui.core.external_editor import edit_text
from tui.core.store import StoreError

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)


class ComposeTools:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._loaded_for: object = object()  # the chat the list was read for

    def load_history(self, conversation_id: str | None) -> None:
        self._loaded_for = conversation_id
        self.screen.run_worker(self._load(conversation_id), group="prompt-history",
                               exclusive=True)

    async def _load(self, conversation_id: str | None) -> None:
        try:
            prompts = await asyncio.to_thread(self.screen.store.prompt_history,
                                              conversation_id)
        except StoreError:
            log.exception("reading the prompt history failed")
            return
        if self._loaded_for != conversation_id:
            return
        try:
            self.screen.composer.prompts = prompts
        except NoMatches:  # the app is quitting: the composer went while the list was read
            log.debug("no composer for the prompt history: the screen is being taken down")

    def sent(self, text: str) -> None:
        """A prompt was sent: it is the newest earlier prompt now."""
        composer = self.screen.composer
        composer.prompts = [text, *(p for p in composer.prompts if p != text)]

    def search_history(self) -> None:
        composer = self.screen.composer

        def picked(text: str | None) -> None:
            if text is not None:
                composer.recall(text)
            composer.focus()

        from tui.ui.screens.history_picker import HistoryPickerScreen  # imported when shown

        self.screen.app.push_screen(HistoryPickerScreen(composer.prompts), picked)

    # -- attachments ---------------------------------------------------------------------

    async def attach(self, query: str | None) -> None:
        """Attach a file: the picker (``query`` None, or a bare ``@``), or the best match
        for a typed ``@query`` (the typed text becomes the chip)."""
        root = Path.cwd()
        typed = self.screen.composer.typed_path()
        if not query:
            where = typed[1] if typed and query == "" else None  # a bare "@" gives way

            def picked(path: str | None) -> None:
                if path is not None:
                    self.screen.run_worker(self._attach_path(root, path, where),
                                           group="attach")
                self.screen.composer.focus()

            from tui.ui.screens.file_picker import FilePickerScreen  # imported when shown

            self.screen.app.push_screen(FilePickerScreen(root), picked)
            return
        direct = root / query
        if query and await asyncio.to_thread(direct.is_file):
            match = query
        else:
            files = await asyncio.to_thread(list_files, root)
            ranked = fuzzy_rank(query, files, 1)
            if not ranked:
                self.screen.notify(f"No file here matches “{query}”.", severity="warning")
                return
            match = ranked[0]
        await self._attach_path(root, match, typed[1] if typed else None)

    async def _attach_path(self, root: Path, path: str, replacing: tuple | None = None) -> None:
        try:
            attachment = await asyncio.to_thread(read_attachment, root / path, path)
        except AttachmentError as error:
            self.screen.notify(str(error), severity="error", timeout=8)
            return
        self.screen.composer.attach(attachment, replacing)

    def open_editor(self, text: str) -> None:
        """Edit ``text`` in $VISUAL / $EDITOR; the result replaces the draft. A failing
        editor leaves the draft as it was and says why."""
        app = self.screen.app
        try:
            with app.suspend():
                result = edit_text(text)
        except SuspendNotSupported:
            self.screen.notify("This terminal can't be handed to an editor; the draft is "
                               "unchanged.", severity="error")
            return
        if result.text is None:
            self.screen.notify(f"The editor failed ({result.error}); the draft is unchanged.",
                               severity="error", timeout=10)
            return
        self.screen.composer.set_draft(result.text)
        self.screen.composer.focus()
