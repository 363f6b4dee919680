"""A modal list filtered as you type, Enter (or a click) picks: the shape shared by the file
picker and the prompt-history search. Subclasses say what matches and how a row reads."""

from __future__ import annotations

from tui.ui.screens.dialog_base import Dialog
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tui.ui.widgets.literal import literal

SHOWN = 200


class FilterPicker(Dialog[str | None]):
    """Dismisses with the picked item, or None."""

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self._shown: list[str] = []

    def matches(self, text: str) -> list[str]:
        """The items the filter ``text`` keeps, best first."""
        raise NotImplementedError

    def label(self, item: str) -> str:
        """How an item reads in the list (shown literally, never as markup)."""
        return item

    def _refilter(self, text: str) -> None:
        self._shown = self.matches(text)[:SHOWN]
        options = self.query_one(OptionList)
        options.set_options(Option(literal(self.label(item)), id=str(i))
                            for i, item in enumerate(self._shown))
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
