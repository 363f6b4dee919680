"""Pick a file to attach: the files under the current folder, filtered fuzzily as you type
(``mnpy`` finds ``tui/main.py``); Enter attaches the highlighted one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.core.attachments import fuzzy_rank, list_files
from tui.ui import keys
from tui.ui.widgets.literal import literal

SHOWN = 200


class FilePickerScreen(ModalScreen[str | None]):
    """Dismisses with a path relative to ``root``, or None."""

    BINDINGS = keys.FILE_PICKER

    def __init__(self, root: Path) -> None:
        super().__init__(classes="dialog-screen")
        self._root = root
        self._files: list[str] = []
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="file-picker"):
            yield Label(literal(f"Attach a file from {self._root}"), classes="dialog-title")
            yield Input(placeholder="Type to filter (fuzzy)", id="file-filter")
            yield Label("Listing files…", id="file-status")
            yield OptionList(id="file-list")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._load()

    @work(exclusive=True, group="files")
    async def _load(self) -> None:
        self._files = await asyncio.to_thread(list_files, self._root)
        self.query_one("#file-status", Label).update(
            f"{len(self._files):,} files" if self._files else "No files here.")
        self._refilter(self.query_one(Input).value)

    def _refilter(self, text: str) -> None:
        self._shown = fuzzy_rank(text, self._files, SHOWN)
        options = self.query_one(OptionList)
        options.set_options(Option(literal(path), id=str(i)) for i, path in enumerate(self._shown))
        if self._shown:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refilter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.query_one(OptionList).highlighted
        if index is not None and self._shown:
            self.dismiss(self._shown[index])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._shown[int(event.option.id or 0)])

    def action_focus_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
