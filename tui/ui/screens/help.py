"""The help screen: every key binding, grouped by where it applies.

It is built from the key registry (``tui.ui.keys``) the widgets take their BINDINGS from,
so it cannot drift from what the keys do. Each section is one :class:`KeyTable`: keys, then
what they do, a description too long for the dialog wrapped under itself, not under the
keys. One widget a section, not two labels a binding: the help opens in a third of the time.
"""

from __future__ import annotations

import textwrap

from rich.cells import cell_len
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from tui.ui.screens.dialog_base import Dialog
from textual.widget import Widget
from textual.widgets import Label

from tui.ui import keys
from tui.ui.keys import key_label

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


class KeyTable(Widget):
    """Rows of keys and descriptions; a long description wraps in its own column."""

    DEFAULT_CSS = "KeyTable { height: auto; }"

    def __init__(self, rows: list[tuple[str, str]], **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rows = rows
        self._keys_width = max((cell_len(keys) for keys, _ in rows), default=0) + 2

    def lines(self, width: int) -> list[Content]:
        indent = self._keys_width
        room = max(12, width - indent)
        lines: list[Content] = []
        for keys_text, description in self._rows:
            first, *rest = textwrap.wrap(description, room) or [""]
            lines.append(Content.assemble((keys_text.ljust(indent), "bold $accent"), first))
            lines.extend(Content(" " * indent + part) for part in rest)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> RenderResult:
        return Content("\n").join(self.lines(self.content_region.width))


class HelpScreen(Dialog[None]):
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
                    yield KeyTable(binding_rows(bindings), classes="help-table")

    def action_close(self) -> None:
        self.dismiss(None)
