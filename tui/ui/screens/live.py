"""Bookkeeping for replies being streamed, one per conversation.

A stream belongs to its conversation, not to the pane: switching chats leaves the worker
iterating the flow (the core keeps storing it) and the text received so far lives here, so
the pane can show it again, still growing, when the user switches back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from textual.worker import Worker

from tui.core.models import Message


@dataclass
class LiveStream:
    conversation_id: str
    # The composer text this flow sends (None for regenerate / retry): cleared once stored.
    sent_text: str | None = None
    # Regenerate and retry delete stored replies first: reload the pane on the first event.
    reload_first: bool = False
    worker: Worker | None = None
    user_message: Message | None = None
    message_id: str | None = None
    parts: list[str] = field(default_factory=list)
    state: str = "sending…"
    kind: str = "streaming"
    # While the client waits before a retry: when it will try again, and why.
    retry_at: float | None = None
    retry_reason: str = ""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def waiting(self, delay: float, reason: str) -> None:
        self.retry_at, self.retry_reason = time.monotonic() + delay, reason
        self.kind = "retrying"

    def status_text(self) -> str:
        """What the status line says; a retry wait counts down to the next attempt."""
        if self.retry_at is None:
            return self.state
        left = max(0, round(self.retry_at - time.monotonic()))
        return f"{self.retry_reason}: retrying in {left}s"

    def progressed(self, state: str, kind: str) -> None:
        self.state, self.kind, self.retry_at = state, kind, None

    def cancel(self) -> None:
        if self.worker is not None and not self.worker.is_finished:
            self.worker.cancel()


class LiveStreams(dict[str, LiveStream]):
    """conversation id -> its running stream."""

    def others(self, conversation_id: str | None) -> int:
        return sum(1 for cid in self if cid != conversation_id)
