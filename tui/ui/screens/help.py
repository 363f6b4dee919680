"""The help screen: every key binding, grouped by where it applies.

It is built from the key registry (``tui.ui.keys``) the widgets take their BINDINGS from,
so it cannot drift from what the keys do. Each section is a two-column grid (keys, then what
they do), so a description too long for the dialog wraps under itself, not under the keys.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label

from tui.ui import keys
from tui.ui.widgets.literal import literal

KEY_NAMES = {
    "ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "pageup": "PgUp", "pagedown": "PgDn",
    "escape": "Esc", "enter": "Enter", "delete": "Del", "up": "↑", "down": "↓",
    "question_mark": "?", "slash": "/", "home": "Home", "end": "End",
}


def key_label(key: str) -> str:
    """"ctrl+pageup" -> "Ctrl+PgUp"; single letters stay as typed (case matters)."""
    parts = key.split("+")
    return "+".join(KEY_NAMES.get(p, p.upper() if len(p) > 1 and p[0] == "f" else p)
                    for p in parts)


def binding_rows(bindings: list[Binding]) -> list[tuple[str, str]]:
    rows: dict[str, list[str]] = {}
    for binding in bindings:
        description = binding.tooltip or binding.description
        if not description:
            continue
        keys = [key_label(k.strip()) for k in binding.key.split(",")]
        rows.setdefault(description, []).extend(keys)
    return [(" / ".join(dict.fromkeys(keys)), description)
            for description, keys in rows.items()]


class HelpScreen(ModalScreen[None]):
    BINDINGS = keys.HELP

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__(classes="dialog-screen")
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="help-dialog"):
            yield Label("Keys  (Esc closes; ctrl+p opens the command palette)",
                        classes="dialog-title")
            with VerticalScroll(id="help-body"):
                for title, bindings in self._sections:
                    yield Label(title, classes="help-section")
                    with Grid(classes="help-table"):
                        for keys_text, description in binding_rows(bindings):
                            yield Label(literal(keys_text), classes="help-keys")
                            yield Label(literal(description), classes="help-description")

    def action_close(self) -> None:
        self.dismiss(None)
