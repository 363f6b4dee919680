"""The messages the conversation view (:class:`ChatPane`) posts: what it asks of the app.

The pane never touches the store or acts on a conversation itself; it posts one of these
and the app (the chat view, the main screen) does the work. They are reached as
``ChatPane.NeedOlder`` and so on, as Textual widgets' own messages are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message as TextualMessage

if TYPE_CHECKING:
    from tui.ui.widgets.message_blocks import ChatBlock


class NeedOlder(TextualMessage):
    """Scrolled to the top: the app should call ``prepend`` with older messages."""

    def __init__(self, conversation_id: str, before_id: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.before_id = before_id


class NeedNewer(TextualMessage):
    """Scrolled to the bottom of a window that stops short of the newest message: the
    app should call ``append_page`` with the messages after ``after_id``."""

    def __init__(self, conversation_id: str, after_id: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.after_id = after_id


class EdgeWanted(TextualMessage):
    """Show one end of the conversation ``conversation_id``; see the subclasses."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id


class FirstWanted(EdgeWanted):
    """Show the conversation's first page (older pages exist): ``g``/Home."""


class LastWanted(EdgeWanted):
    """Show the newest page again (the window stops short of it): ``G``/End."""


class DeleteRequested(TextualMessage):
    """Delete the stored message ``message_id`` (after asking)."""

    def __init__(self, message_id: str, text: str) -> None:
        super().__init__()
        self.message_id = message_id
        self.text = text


class PinRequested(TextualMessage):
    """Pin (or unpin, ``pinned`` False) the stored message ``message_id``."""

    def __init__(self, message_id: str, pinned: bool) -> None:
        super().__init__()
        self.message_id = message_id
        self.pinned = pinned


class EditRequested(TextualMessage):
    """Edit the user message ``message_id`` and resend it as a new branch."""

    def __init__(self, message_id: str, text: str) -> None:
        super().__init__()
        self.message_id = message_id
        self.text = text


class BranchRequested(TextualMessage):
    """Show the sibling ``step`` places from ``message_id`` (-1 before, 1 after)."""

    def __init__(self, message_id: str, step: int) -> None:
        super().__init__()
        self.message_id = message_id
        self.step = step


class ForkRequested(TextualMessage):
    """Copy the chat up to ``message_id`` into a new conversation."""

    def __init__(self, message_id: str) -> None:
        super().__init__()
        self.message_id = message_id


class CopyRequested(TextualMessage):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class CopyModeRequested(TextualMessage):
    """Open copy mode over ``text`` with the cursor on ``line``."""

    def __init__(self, text: str, line: int) -> None:
        super().__init__()
        self.text = text
        self.line = line


class CodeCopyRequested(TextualMessage):
    """Copy code block ``number`` (None: the last) of the reply ``block``."""

    def __init__(self, block: ChatBlock, number: int | None) -> None:
        super().__init__()
        self.block = block
        self.number = number
