"""Pick a file to attach: the files under the current folder, filtered fuzzily as you type
(``mnpy`` finds ``tui/main.py``); Enter attaches the highlighted one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList

from tui.core.attachments import fuzzy_rank, list_files
from tui.ui import keys
from tui.ui.screens.filter_picker import SHOWN, FilterPicker
from tui.ui.widgets.literal import literal
from tui.ui.widgets.safe_fields import SafeInput


class FilePickerScreen(FilterPicker):
    """Dismisses with a path relative to ``root``, or None."""

    BINDINGS = keys.FILE_PICKER

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._root = root
        self._files: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="file-picker"):
            yield Label(literal(f"Attach a file from {self._root}"), classes="dialog-title")
            yield SafeInput(placeholder="Type to filter (fuzzy)", id="file-filter")
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

    def matches(self, text: str) -> list[str]:
        return fuzzy_rank(text, self._files, SHOWN)
