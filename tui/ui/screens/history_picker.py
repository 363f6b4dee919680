"""Search earlier prompts (the composer's alt+r, like a shell's Ctrl+R): type to filter,
Enter puts the highlighted prompt in the composer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.ui import keys
from tui.ui.widgets.literal import literal, one_line

SHOWN = 200


class HistoryPickerScreen(ModalScreen[str | None]):
    """Dismisses with the picked prompt, or None."""

    BINDINGS = keys.HISTORY_PICKER

    def __init__(self, prompts: list[str]) -> None:
        super().__init__(classes="dialog-screen")
        self._prompts = prompts
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="history-picker"):
            yield Label("Earlier prompts (newest first)", classes="dialog-title")
            yield Input(placeholder="Filter", id="history-filter")
            yield OptionList(id="history-list")

    def on_mount(self) -> None:
        self._refilter("")
        self.query_one(Input).focus()

    def _refilter(self, text: str) -> None:
        words = text.lower().split()
        self._shown = [p for p in self._prompts
                       if all(word in p.lower() for word in words)][:SHOWN]
        options = self.query_one(OptionList)
        options.set_options(Option(literal(one_line(p)[:200]), id=str(i))
                            for i, p in enumerate(self._shown))
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
