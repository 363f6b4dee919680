"""The chat flow's events: what front ends render, and the words for why a reply stopped.

Plain dataclasses, so the app (as Textual messages) and ``gpt-tui ask`` (as lines on stderr)
render the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui.core.client_errors import (
    AuthError,
    BadRequest,
    ClientError,
    ConnectFailed,
    ContextLengthExceeded,
    ModelNotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamCut,
)
from tui.core.models import Conversation, Message, Summary


@dataclass
class ConversationCreated:
    """A NewConversation given to send() was stored, just before its first message."""

    conversation: Conversation


@dataclass(frozen=True)
class Seen:
    """What the caller has shown of a conversation: the id of the newest message (None: none).

    A send, retry or regenerate given one is refused (FlowFailed kind "unseen", nothing stored)
    when the conversation holds newer messages, written by another running copy: a request
    never carries messages the user has not seen.
    """

    last_message_id: str | None


@dataclass
class UserMessageStored:
    message: Message


@dataclass
class ContextNotice:
    kind: Literal["summarized", "truncated", "summary_failed", "window_learned",
                  "window_taken", "overflow_retry"]
    text: str
    summary: Summary | None = None
    dropped_count: int = 0


@dataclass
class AssistantStarted:
    message: Message


@dataclass
class AssistantDelta:
    message_id: str
    text: str


@dataclass
class AssistantStreamEnded:
    """The server's stream ended: every delta of the reply has been yielded. Storing it
    (counting its tokens, indexing it for search) follows, then AssistantFinished; a front
    end shows the whole text now rather than after that work."""

    message_id: str


@dataclass
class StoreWaiting:
    """Another program holds the database's write lock: ``what`` ("your message", "the
    reply") is stored once it is free (tui.core.locked_writes); the flow waits meanwhile."""

    what: str


@dataclass
class RetryWait:
    attempt: int
    delay: float
    reason: str


@dataclass
class AssistantFinished:
    message: Message
    # Why the reply stopped early, in words (finish_note), or None when it just ended.
    note: str | None = None
    # The window planned for changed with this reply (a size the server took): a meter
    # counting on from the last reading reads it anew.
    window_changed: bool = False


@dataclass
class TitleUpdated:
    conversation_id: str
    title: str


@dataclass
class FlowFailed:
    """``kind``: "empty", "unseen" (another copy added messages not shown yet: nothing
    stored), "too_long" (refused before storing: nothing was stored),
    "context" (the server or the planner found the request too long), or a client error's
    kind ("auth", "model", "rate_limit", "server", "connect", "timeout", ...)."""

    message: Message | None
    error: str
    kind: str
    exit_code: int = 1


FlowEvent = (ConversationCreated | UserMessageStored | ContextNotice | AssistantStarted
             | AssistantDelta | AssistantStreamEnded | RetryWait | StoreWaiting
             | AssistantFinished | TitleUpdated | FlowFailed)

# ClientError subclass -> FlowFailed.kind, so front ends can say what to do.
_ERROR_KINDS: tuple[tuple[type[ClientError], str], ...] = (
    (AuthError, "auth"),
    (ModelNotFound, "model"),
    (RateLimited, "rate_limit"),
    (ServerError, "server"),
    (ConnectFailed, "connect"),
    (RequestTimeout, "timeout"),
    (StreamCut, "stream_cut"),
    (ContextLengthExceeded, "context"),
    (BadRequest, "bad_request"),
)

FINISH_NOTES = {
    "length": "the reply was cut at the output token limit",
    "context": "the reply was cut: it reached the end of the model's context window",
    "content_filter": "the server stopped the reply (content filter)",
}


def finish_note(message: Message, *, max_output_tokens: int | None,
                window: int | None) -> str | None:
    """Why ``message`` stopped early, in words; None when it simply ended.

    "length" means the output limit only when max_tokens was set and reached; a reply that
    filled the rest of the window (llama.cpp without max_tokens) is said to be that.
    """
    reason = message.finish_reason
    if reason != "length":
        return FINISH_NOTES.get(reason or "")
    completion, prompt = message.completion_tokens, message.prompt_tokens
    if max_output_tokens and (completion is None or completion >= max_output_tokens):
        return FINISH_NOTES["length"]
    if window and prompt and completion and prompt + completion >= window * 0.97:
        return FINISH_NOTES["context"]
    if not max_output_tokens and window and completion is None:
        return FINISH_NOTES["context"]
    return FINISH_NOTES["length"]


def cut_note(prompt_tokens: int, window: int) -> str:
    """A reply to a prompt the server cut to its window without saying so (Ollama)."""
    return (f"the server counted {prompt_tokens:,} prompt tokens, its whole "
            f"{window:,}-token window: it probably cut the start of this request. It counts "
            "this model's text higher than estimated: later requests are planned with its "
            "count, and regenerating this reply sends the request again")


def kind_of(error: ClientError) -> str:
    return next((kind for cls, kind in _ERROR_KINDS if isinstance(error, cls)), "error")


