"""The usage panel (F12): tokens and estimated cost per conversation, day or month.

It shows what ``gpt-tui usage`` prints, from the same core function (tui.core.usage): the
servers' own figures, a cost only where the price table has one ("unknown" otherwise). The
grouping is a reactive; each change reloads the table in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from rich.cells import cell_len
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label

from tui.cells import clip_cells
from tui.core.store import StoreError
from tui.core.usage import Grouping, UsageTotal, grand_total
from tui.ui import keys
from tui.ui.screens.dialog_base import Dialog
from tui.ui.widgets.cursor_table import CursorTable
from tui.ui.widgets.literal import literal, one_line

log = logging.getLogger(__name__)

UsageLoader = Callable[[Grouping], list[UsageTotal]]
HEADINGS = {"conversation": "Conversation", "day": "Day (UTC)", "month": "Month"}
TITLE_WIDTH = 40


class UsagePanelScreen(Dialog[None]):
    BINDINGS = keys.USAGE_PANEL

    grouping: reactive[Grouping] = reactive("conversation", init=False)

    def __init__(self, load: UsageLoader) -> None:
        """``load`` runs in a thread: the totals for a grouping."""
        super().__init__(classes="dialog-screen")
        self._load = load

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="usage-dialog"):
            yield Label("Usage", classes="dialog-title")
            yield Label("", id="usage-grouping")
            yield CursorTable(id="usage-table", cursor_type="row", zebra_stripes=True)
            yield Label("", id="usage-total")
            yield Label(literal("Costs are estimates from the price table ([prices] in the "
                                "config); \"unknown\" where a model has no price."),
                        id="usage-note")

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._show()

    def watch_grouping(self) -> None:
        self._show()

    def _show(self) -> None:
        choices = [f"[b]{key}[/b]: {HEADINGS[name].lower()}" if name != self.grouping
                   else f"[reverse] {key}: {HEADINGS[name].lower()} [/reverse]"
                   for key, name in (("c", "conversation"), ("d", "day"), ("m", "month"))]
        self.query_one("#usage-grouping", Label).update("  ".join(choices))
        self.reload()

    @work(exclusive=True, group="usage")
    async def reload(self) -> None:
        grouping = self.grouping
        try:
            totals = await asyncio.to_thread(self._load, grouping)
        except StoreError as error:
            log.exception("reading the usage failed")
            self.notify(f"Could not read the usage: {error}", severity="error")
            return
        table = self.query_one(DataTable)
        table.clear(columns=True)
        labels = [one_line(total.label) for total in totals]
        # In cells, not characters: a title in CJK was cut to half of the column it sized.
        labels = [clip_cells(label, TITLE_WIDTH - 1) + "…" if cell_len(label) > TITLE_WIDTH
                  else label for label in labels]
        heading = HEADINGS[grouping]
        table.add_column(heading, key="what",
                         width=max(len(heading), *(cell_len(label) for label in labels), 0))
        for name in ("Replies", "Prompt", "Cached", "Completion", "Cost"):
            table.add_column(name, key=name.lower())
        for label, total in zip(labels, totals):
            table.add_row(literal(label), total.requests_text(), f"{total.prompt_tokens:,}",
                          f"{total.cached_tokens:,}", f"{total.completion_tokens:,}",
                          total.cost_text(), key=total.key)
        whole = grand_total(totals)
        side = f" and {whole.side} summary/title requests" if whole.side else ""
        self.query_one("#usage-total", Label).update(
            f"Total: {whole.replies} replies{side} · {whole.prompt_tokens:,} prompt "
            f"({whole.cached_tokens:,} cached) · {whole.completion_tokens:,} completion · "
            f"{whole.cost_text()}" if totals else "No replies yet.")

    def action_group(self, grouping: Grouping) -> None:
        self.grouping = grouping

    def action_close(self) -> None:
        self.dismiss(None)
