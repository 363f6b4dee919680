"""Summaries of a conversation's older messages (the SUMMARIZE strategy), read and written
through the Store; which of them hold on the active path is tui.core.tree's business."""

from __future__ import annotations

import sqlite3

from tui.core import ids, tree
from tui.core.models import Summary
from tui.core.store_base import StoreBase, _guarded, _reading
from tui.core.store_errors import NotFound


class SummaryStore(StoreBase):
    """The Store's summaries (see the module docstring)."""

    @_guarded
    def add_summary(self, conversation_id: str, content: str, *, first_message_id: str,
                    last_message_id: str, covered_count: int, token_count: int | None = None,
                    model: str | None = None,
                    previous_summary_id: str | None = None) -> Summary:
        """Record a summary of messages first_message_id..last_message_id (inclusive)."""
        summary = Summary(
            id=ids.new_ulid(), conversation_id=conversation_id, content=content,
            first_message_id=first_message_id, last_message_id=last_message_id,
            covered_count=covered_count, token_count=token_count, model=model,
            previous_summary_id=previous_summary_id)
        try:
            tree.insert_summary_sql(self.conn, summary)
        except sqlite3.IntegrityError:
            raise NotFound(f"no conversation with id {conversation_id}") from None
        return summary

    @_reading
    def latest_summary(self, conversation_id: str) -> Summary | None:
        """The newest summary that holds on the active path (see tree.path_summaries_sql)."""
        summaries = tree.path_summaries_sql(self.conn, conversation_id)
        return summaries[-1] if summaries else None

    @_reading
    def list_summaries(self, conversation_id: str) -> list[Summary]:
        """The summaries that hold on the active path, oldest first."""
        return tree.path_summaries_sql(self.conn, conversation_id)

