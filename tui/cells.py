"""Text measured in terminal cells, for the columns the CLI prints and the app's tables.

Outside ``tui.core``, which imports neither Textual nor Rich: this measures with Rich's
tables, imported only when a column is measured.
"""

from __future__ import annotations

__all__ = ["clip_cells"]


def clip_cells(text: str, cells: int) -> str:
    """``text`` cut to at most ``cells`` terminal cells, a wide (CJK) character never split:
    ``len`` counts such a character once where it takes two cells."""
    from rich.cells import cell_len, set_cell_size

    return text if cell_len(text) <= cells else set_cell_size(text, cells).rstrip()
