"""Domain records shared by every layer.

These are plain dataclasses so the store, the chat flow, export and the UI agree on one shape
without any of them depending on the others. Timestamps are ISO 8601 UTC strings with
milliseconds (``2026-11-22T02:05:00.123Z``): they sort as text and survive JSON unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import TypeAlias

# A value of an extra request parameter (a server's own knob such as top_k): a JSON scalar.
ParamValue: TypeAlias = str | int | float | bool


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class Strategy(StrEnum):
    """How a conversation that outgrows the model's window is brought back inside it."""

    SUMMARIZE = "summarize"
    TRUNCATE = "truncate"
    OFF = "off"


def utc_now() -> str:
    """The current time as the store writes it."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass
class Conversation:
    id: str
    title: str
    model: str
    system_prompt: str = ""
    strategy: Strategy = Strategy.SUMMARIZE
    created: str = field(default_factory=utc_now)
    updated: str = field(default_factory=utc_now)
    pinned: bool = False
    archived: bool = False
    # Generation parameters; None means "let the server decide".
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    # Per-conversation override of the model's context window (tokens).
    context_window: int | None = None
    # Server-reported prompt tokens minus the local count for the same request, smoothed:
    # corrects local counts for models whose tokenizer is not tiktoken's.
    token_correction: float = 0.0
    # Ask for a JSON object (``response_format: {"type": "json_object"}``).
    json_output: bool = False
    # A server's own knobs (top_k, min_p, ...), sent as they are; see tui.core.params.
    extra_params: dict[str, ParamValue] = field(default_factory=dict)


@dataclass
class Message:
    id: str
    conversation_id: str
    role: Role
    content: str
    created: str = field(default_factory=utc_now)
    model: str | None = None
    status: MessageStatus = MessageStatus.COMPLETE
    # Local count of this message (content + per-message overhead), computed once and stored.
    token_count: int | None = None
    # The encoding that produced token_count ("o200k_base", ...), or "estimate" when no
    # encoding could be loaded; a count is redone only when this differs from the live one.
    token_encoding: str | None = None
    # What the server reported for the request that produced this (assistant) message.
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    # Error text for status=error; shown to the user, never sent to the model.
    error: str | None = None
    # Pinned by the user: always sent, never summarized or dropped (schema version 4).
    pinned: bool = False
    # Usage of the request that produced this reply (None: the server did not say). Prompt
    # tokens served from the server's cache; ms to the first token and to the end; the
    # server that answered (a sanitized base URL), which decides the price.
    cached_tokens: int | None = None
    first_token_ms: int | None = None
    duration_ms: int | None = None
    server: str | None = None
    # The message this one answers or follows (None: a root). Siblings (same parent) are
    # alternatives: a regenerated answer, an edited question (schema version 6).
    parent_id: str | None = None

    @property
    def needs_retry(self) -> bool:
        """A reply that did not complete: failed, cut mid-stream, stopped, left ``streaming``
        by a crash, or empty. Retry replaces it; it is never sent back to the model."""
        return self.role == Role.ASSISTANT and (
            self.status != MessageStatus.COMPLETE or bool(self.error) or not self.content)


@dataclass
class Summary:
    """A rolling summary of the start of a conversation.

    It covers every message from the conversation's first up to and including
    ``last_message_id`` (a later summary folds in the earlier one), and it never replaces them:
    the messages stay in the store, requests just send the summary in their place.
    """

    id: str
    conversation_id: str
    content: str
    first_message_id: str
    last_message_id: str
    covered_count: int
    token_count: int | None = None
    model: str | None = None
    created: str = field(default_factory=utc_now)
    # The summary this one folded in, if any.
    previous_summary_id: str | None = None


@dataclass
class SearchHit:
    conversation: Conversation
    # None when the hit is in the conversation's title.
    message_id: str | None
    # Matched text with each match wrapped in HIGHLIGHT_START / HIGHLIGHT_END, control
    # characters that cannot occur in stored text, so each front end styles them its own way.
    snippet: str


HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"
