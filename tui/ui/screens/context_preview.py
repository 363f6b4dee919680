"""The context preview: what the next request of the open chat would send, before it is sent.

It renders the core's :func:`tui.core.preview.preview_request` (the same planner a send
uses; it sends nothing, only the server's tokenizer may be asked): one table row per message
with its tokens and fate, and above it the window and where that figure came from, the prompt
budget, the reply reserve and whether the counts are the server's. A DataTable holds the
rows, so a 1,000-message chat costs one widget, not a thousand. The preview is computed in a
worker; the screen shows "Computing…" meanwhile and stays live.

Every cell is literal ``Content``: a DataTable reads a plain ``str`` cell as Rich markup, so a
message saying ``[/]`` ended the app and ``[red]`` recoloured the row. A DataTable measures a
``Content`` cell as one cell wide, so the columns get their widths here.
"""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from rich.cells import cell_len
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Label, Static

from tui.core.preview import ContextPreview
from tui.ui import keys
from tui.ui.screens.dialog_base import Dialog
from tui.ui.widgets.cursor_table import CursorTable
from tui.ui.widgets.literal import literal, one_line

log = logging.getLogger(__name__)

# Where a window figure came from, in the user's words.
WINDOW_SOURCES = {
    "server": "reported by the server",
    "error": "learned from an overflow error",
    "accepted": "what the server took after refusing more without saying its window "
                "(set it under [context_windows] if it takes more)",
    "table": "from the built-in model table",
    "config": "from the config ([context_windows])",
    "conversation": "set on this chat",
    "guess": "a guess: the model is unknown",
}
FATE_STYLES = {
    "sent": "$success",
    "pinned": "bold $accent",
    "summarized": "$warning",
    "dropped": "$error",
    "skipped": "$foreground 50%",
}
SNIPPET = 60  # characters of each message shown in its row
COLUMNS = ("#", "role", "tokens", "fate", "message")


def describe_source(source: str) -> str:
    return WINDOW_SOURCES.get(source, source or "unknown")


def summary_lines(preview: ContextPreview) -> list[str]:
    """The facts above the table, one per line."""
    counted = ("counts exact (the server's tokenizer)" if preview.exact
               else "counted locally (≈ except on OpenAI's own models)")
    lines = [
        f"Window: {preview.window:,} tokens, {describe_source(preview.window_source)}",
        f"Prompt budget: {preview.available:,} · reply reserve: {preview.reply_reserve:,}",
        f"Next request: {preview.tokens:,} tokens of {preview.full_tokens:,} in the whole "
        f"chat · {counted}",
        f"Strategy: {preview.strategy}"
        + (" · this send summarizes first" if preview.will_summarize else ""),
    ]
    if preview.error:
        lines.append(f"No request fits: {one_line(preview.error)}")
    return lines


class ContextPreviewScreen(Dialog[None]):
    """Nothing is sent from here: Escape closes."""

    BINDINGS = keys.CONTEXT_PREVIEW

    def __init__(self, compute: Callable[[], Awaitable[ContextPreview]], title: str) -> None:
        super().__init__(classes="dialog-screen")
        self._compute = compute
        self._title = title
        self.preview: ContextPreview | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="preview-dialog"):
            yield Label(literal(f"Next request · {one_line(self._title)}  (Esc closes)"),
                        classes="dialog-title")
            yield Static("Computing…", id="preview-facts")
            table: CursorTable[Content | str] = CursorTable(id="preview-table", cursor_type="row",
                                                            zebra_stripes=True)
            table.add_columns(*COLUMNS)
            yield table
            yield Static("", id="preview-summary")

    def on_mount(self) -> None:
        # The table measures its new rows when it is next idle; the scroll to the newest row
        # that ``move_cursor`` schedules can run before that and find nothing to scroll (a
        # loaded CI run: the preview stayed at its first rows). Scroll again once measured.
        self.watch(self.query_one("#preview-table", DataTable), "virtual_size",
                   self._newest_row_in_view, init=False)
        self._load()

    def _newest_row_in_view(self) -> None:
        table = self.query_one("#preview-table", DataTable)
        if self.preview is not None and self.preview.items:
            table.move_cursor(row=len(self.preview.items) - 1)

    @work(exclusive=True, group="context-preview")
    async def _load(self) -> None:
        try:
            preview = await self._compute()
        except Exception as error:  # a store or server problem: say it, keep the app
            log.exception("the context preview failed")
            self.query_one("#preview-facts", Static).update(
                Content(f"Could not compute the preview: {one_line(str(error))}"))
            return
        self.show(preview)

    def show(self, preview: ContextPreview) -> None:
        self.preview = preview
        self.query_one("#preview-facts", Static).update(Content("\n".join(summary_lines(preview))))
        table = self.query_one("#preview-table", DataTable)
        rows = [(str(number), item.role, f"{item.tokens:,}", item.fate,
                 one_line(item.content)[:SNIPPET])
                for number, item in enumerate(preview.items, 1)]
        table.clear(columns=True)
        for index, name in enumerate(COLUMNS):
            table.add_column(name, width=max(cell_len(row[index]) for row in [COLUMNS, *rows]))
        table.add_rows(
            [literal(number), literal(role), literal(tokens),
             literal(fate, FATE_STYLES.get(fate, "")), literal(snippet)]
            for number, role, tokens, fate, snippet in rows)
        self._newest_row_in_view()
        summary = self.query_one("#preview-summary", Static)
        summary.update(Content(f"Summary sent in place of older messages: "
                               f"{one_line(preview.summary)}") if preview.summary else "")
        summary.display = bool(preview.summary)
        self.query_one("#preview-table").focus()

    def action_close(self) -> None:
        self.dismiss(None)
