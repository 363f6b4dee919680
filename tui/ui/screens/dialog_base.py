"""The base of the app's modal dialogs: each shows its own keys in a footer.

Below a dialog the main screen stays in view, its footer too, listing keys that do nothing
while the dialog is open (Ctrl+N in the edit dialog); the dialog's own (Esc, Ctrl+S, F2)
were shown nowhere but on its buttons. Its footer covers that one.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.screen import ModalScreen

from tui.ui.widgets.key_footer import KeyFooter

__all__ = ["Dialog"]

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    """A ModalScreen with a footer of its keys (added on mount: subclasses compose freely).

    Under ``SHORT_SCREEN`` rows it has the ``-short`` class, for a dialog's styles to give
    its main part room (app.tcss: the settings form, the context preview's table)."""

    SHORT_SCREEN = 30

    def _on_mount(self, event: events.Mount) -> None:
        self.mount(KeyFooter())

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < self.SHORT_SCREEN, "-short")
