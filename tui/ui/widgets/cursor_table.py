"""A DataTable that keeps its cursor row in view when the table itself changes size.

Textual's DataTable scrolls its cursor into view when the cursor moves or rows are added,
not when the table gets shorter: the facts above the context preview growing a layout after
the table scrolled to its newest row, or a smaller terminal, left the cursor row below the
view.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.widgets import DataTable

CellType = TypeVar("CellType")


class CursorTable(DataTable[CellType]):
    """A row table whose cursor row stays on screen through resizes."""

    def on_resize(self, _event: events.Resize) -> None:
        if self.row_count:
            self.move_cursor(row=self.cursor_row, animate=False)
