"""Search earlier prompts (the composer's alt+r, like a shell's Ctrl+R): type to filter,
Enter puts the highlighted prompt in the composer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList

from tui.ui import keys
from tui.ui.screens.filter_picker import FilterPicker
from tui.ui.widgets.literal import one_line
from tui.ui.widgets.safe_fields import SafeInput


class HistoryPickerScreen(FilterPicker):
    """Dismisses with the picked prompt, or None."""

    BINDINGS = keys.HISTORY_PICKER

    def __init__(self, prompts: list[str]) -> None:
        super().__init__()
        self._prompts = prompts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="history-picker"):
            yield Label("Earlier prompts (newest first)", classes="dialog-title")
            yield SafeInput(placeholder="Filter", id="history-filter")
            yield OptionList(id="history-list")

    def on_mount(self) -> None:
        self._refilter("")
        self.query_one(Input).focus()

    def matches(self, text: str) -> list[str]:
        words = text.lower().split()
        return [p for p in self._prompts if all(word in p.lower() for word in words)]

    def label(self, item: str) -> str:
        return one_line(item)[:200]
