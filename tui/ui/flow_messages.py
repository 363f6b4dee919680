"""The chat flow's events as Textual messages.

``tui.core.chat`` yields plain dataclass events (it knows nothing of Textual). The worker
that iterates a flow turns each into one of these messages with :func:`to_message` and posts
it; the widgets that care handle it with ``@on``. Every message names the conversation it
belongs to, because a reply keeps streaming while another chat is on screen.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.message import Message as TextualMessage

from tui.core import chat
from tui.core.models import Conversation, Message, Summary


class FlowMessage(TextualMessage):
    """Base: something happened in the reply flow of ``conversation_id``."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id


class ConversationCreated(FlowMessage):
    """A new chat was stored with its first message; ``conversation_id`` is its real id,
    ``provisional`` the key the worker and the screen knew the unsaved chat by."""

    def __init__(self, conversation_id: str, conversation: Conversation,
                 provisional: str = "") -> None:
        super().__init__(conversation_id)
        self.conversation = conversation
        self.provisional = provisional


class UserMessageStored(FlowMessage):
    def __init__(self, conversation_id: str, message: Message) -> None:
        super().__init__(conversation_id)
        self.message = message
        # Set by the worker: the composer text this send took (to clear it and its draft),
        # and whether it came from an unsaved chat (whose draft is kept under None). On the
        # message, because the stream may be over by the time the screen handles it.
        self.sent_text: str | None = None
        self.new_chat = False


class ReplyStarted(FlowMessage):
    def __init__(self, conversation_id: str, message: Message) -> None:
        super().__init__(conversation_id)
        self.message = message


class ReplyDelta(FlowMessage, bubble=False):
    """Streamed text. Only the chat view wants it, so it does not bubble; the worker hands
    it over directly (``ChatView.post_delta``) rather than through the view's queue."""

    def __init__(self, conversation_id: str, message_id: str, text: str) -> None:
        super().__init__(conversation_id)
        self.message_id = message_id
        self.text = text


class ReplyTextEnded(FlowMessage, bubble=False):
    """The server's stream ended: the reply's text is complete and is stored next. Handed to
    the chat view directly (``ChatView.post_text_ended``), as deltas are."""

    def __init__(self, conversation_id: str, message_id: str) -> None:
        super().__init__(conversation_id)
        self.message_id = message_id


class ReplyFinished(FlowMessage):
    """``note``: why the reply stopped early, in words (the core's finish_note), or None.
    ``window_changed``: the window planned for changed with it (the meter reads anew)."""

    def __init__(self, conversation_id: str, message: Message,
                 note: str | None = None, *, window_changed: bool = False) -> None:
        super().__init__(conversation_id)
        self.message = message
        self.note = note
        self.window_changed = window_changed


class ReplyFailed(FlowMessage):
    """The request failed; ``message`` is the stored reply (None: it never started)."""

    def __init__(self, conversation_id: str, message: Message | None, error: str,
                 kind: str) -> None:
        super().__init__(conversation_id)
        self.message = message
        self.error = error
        self.kind = kind


class ReplyRetrying(FlowMessage):
    def __init__(self, conversation_id: str, delay: float, reason: str) -> None:
        super().__init__(conversation_id)
        self.delay = delay
        self.reason = reason


class StoreWaiting(FlowMessage):
    """Another program holds the database locked: ``what`` is stored once it is free."""

    def __init__(self, conversation_id: str, what: str) -> None:
        super().__init__(conversation_id)
        self.what = what


class TitleChanged(FlowMessage):
    def __init__(self, conversation_id: str, title: str) -> None:
        super().__init__(conversation_id)
        self.title = title


class ContextNoted(FlowMessage):
    """The context manager summarized, truncated or learned a smaller window."""

    def __init__(self, conversation_id: str, kind: str, text: str,
                 summary: Summary | None) -> None:
        super().__init__(conversation_id)
        self.kind = kind
        self.text = text
        self.summary = summary
        # window_learned / overflow_retry: the reply the core deleted before trying again (set by the worker).
        self.replaced_message_id: str | None = None


class FlowEnded(FlowMessage):
    """The worker stopped iterating: finished, failed, cancelled or crashed (``crash`` holds
    the error text). A reply cancelled or crashed before it was stored as finished is
    ``cancelled_reply``: the view shows it as interrupted, with the text that arrived."""

    def __init__(self, conversation_id: str, *, crash: str | None = None,
                 cancelled_reply: tuple[str, str] | None = None) -> None:
        super().__init__(conversation_id)
        self.crash = crash
        # (message id, the text that arrived) of the reply left unfinished.
        self.cancelled_reply = cancelled_reply


_TRANSLATIONS: dict[type, Callable[[str, Any], FlowMessage]] = {
    # The worker iterates a new chat under a provisional key; this event names the real id.
    chat.ConversationCreated: lambda cid, e: ConversationCreated(e.conversation.id,
                                                                 e.conversation, cid),
    chat.UserMessageStored: lambda cid, e: UserMessageStored(cid, e.message),
    chat.AssistantStarted: lambda cid, e: ReplyStarted(cid, e.message),
    chat.AssistantDelta: lambda cid, e: ReplyDelta(cid, e.message_id, e.text),
    chat.AssistantStreamEnded: lambda cid, e: ReplyTextEnded(cid, e.message_id),
    chat.AssistantFinished: lambda cid, e: ReplyFinished(cid, e.message, e.note,
                                                        window_changed=e.window_changed),
    chat.FlowFailed: lambda cid, e: ReplyFailed(cid, e.message, e.error, e.kind),
    chat.RetryWait: lambda cid, e: ReplyRetrying(cid, e.delay, e.reason),
    chat.StoreWaiting: lambda cid, e: StoreWaiting(cid, e.what),
    chat.TitleUpdated: lambda cid, e: TitleChanged(cid, e.title),
    chat.ContextNotice: lambda cid, e: ContextNoted(cid, e.kind, e.text, e.summary),
}


def to_message(conversation_id: str, event: chat.FlowEvent) -> FlowMessage:
    """The Textual message for one core event (a new core event type fails loudly here)."""
    return _TRANSLATIONS[type(event)](conversation_id, event)
