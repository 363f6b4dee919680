"""Pick a code block of a reply to copy: a digit picks block N at once, Enter the
highlighted one (the last block, at first)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from tui.ui.screens.dialog_base import Dialog
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.core.code_blocks import CodeBlock
from tui.ui import keys
from tui.ui.widgets.literal import literal


class CodePickerScreen(Dialog[int | None]):
    """Dismisses with the number of the block to copy, or None."""

    BINDINGS = keys.CODE_PICKER

    def __init__(self, blocks: list[CodeBlock]) -> None:
        super().__init__(classes="dialog-screen")
        self._blocks = blocks

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="code-picker"):
            yield Label("Copy a code block (1-9 picks one, Enter the highlighted)",
                        classes="dialog-title")
            yield OptionList(*(Option(literal(block.title), id=str(block.number))
                               for block in self._blocks), id="code-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = len(self._blocks) - 1
        options.focus()

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit() and event.character != "0":
            number = int(event.character)
            if number <= len(self._blocks):
                event.stop()
                self.dismiss(number)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0) or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
