"""The footer, with help and quit kept in view on a narrow terminal.

Textual's footer lists the focused widget's keys first and the app's last, so on a narrow
screen the keys a new user needs most (help, quit) are the ones cut off. When the screen is
narrow they move to the front.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

ALWAYS_SHOWN = ("help", "quit")


class KeyFooter(Footer):
    def compose(self) -> ComposeResult:
        items = list(super().compose())
        if not self.screen.has_class("-narrow"):
            yield from items
            return
        first = [item for item in items if getattr(item, "action", None) in ALWAYS_SHOWN]
        yield from first + [item for item in items if item not in first]
