"""One focusable block per item in the chat pane: user, assistant, error, summary, notice.

Every block has a ``sort_key`` so the pane can keep them in conversation order: a message's
key is its id (ULIDs sort by time); summaries and notices sort just after the message they
follow (``<id>~...``).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Label, Static

from tui.core.models import Message, MessageStatus, Role, Summary
from tui.core.tree import Branch
from tui.core.usage import reply_usage_text
from tui.ui.widgets.literal import literal, one_line
from tui.ui.widgets.one_layout import OneLayoutPass
from tui.ui.widgets.streaming_markdown import StreamingMarkdown
from tui.ui.widgets.uniform_lines import UniformLines
from tui.ui.widgets.width_arrangement import ArrangedByWidth

log = logging.getLogger(__name__)

# What to do next, per FlowFailed.kind.
ERROR_HINTS = {
    "auth": "Check the API key (OPENAI_API_KEY), then press ctrl+r to retry.",
    "model": "Pick another model with F3, then press ctrl+r to retry.",
    "rate_limit": "Rate limited: wait a moment, then press ctrl+r to retry.",
    "server": "The server failed: press ctrl+r to retry.",
    "connect": "Start the server or check the base URL, then press ctrl+r to retry.",
    "timeout": "The request timed out: press ctrl+r to retry.",
    "context": "Too long for the model: switch the strategy (F5) or the model (F3), "
               "then press ctrl+r.",
    "bad_request": "The server rejected the request: press ctrl+r to retry.",
    "stream_cut": "The connection dropped mid-reply: press ctrl+r to retry.",
    "empty": "Type a message first.",
}
DEFAULT_HINT = "Press ctrl+r to retry."


class ChatBlock(ArrangedByWidth, UniformLines, OneLayoutPass, Vertical, can_focus=True):
    """Base for pane items: focusable so up/down (j/k) can walk the conversation."""

    def __init__(self, sort_key: str, *, classes: str = "") -> None:
        super().__init__(classes=f"chat-block {classes}".strip())
        self.sort_key = sort_key

    def copy_text(self) -> str:
        """What ctrl+y copies when this block has focus."""
        return ""


class MessageBlock(ChatBlock):
    def __init__(self, message: Message, *, classes: str = "") -> None:
        super().__init__(message.id, classes=classes)
        self.message = message
        # Its place among its siblings (‹ 2/3 ›), None when it has none.
        self.branch: Branch | None = None

    def copy_text(self) -> str:
        return self.message.content

    def header_text(self) -> str:
        return self.with_branch("You" + (f" · {PIN_MARK}" if self.message.pinned else ""))

    def with_branch(self, header: str) -> str:
        return header if self.branch is None else f"{header} · {self.branch.label}"

    def set_branch(self, branch: Branch | None) -> None:
        """The message's place among its siblings changed: the header says so."""
        if branch == self.branch:
            return
        self.branch = branch
        for header in self.query(".block-header").results(Label):  # none before compose
            header.update(literal(self.header_text()))

    def header_classes(self) -> str:
        return "block-header -pinned" if self.message.pinned else "block-header"

    def set_pinned(self, pinned: bool) -> None:
        """The stored message was pinned or unpinned: the header says so."""
        self.message = replace(self.message, pinned=pinned)
        header = self.query_one(".block-header", Label)
        header.set_classes(self.header_classes())
        header.update(literal(self.header_text()))


class UserBlock(MessageBlock):
    def __init__(self, message: Message) -> None:
        super().__init__(message, classes="user-block")

    def compose(self) -> ComposeResult:
        yield Label(literal(self.header_text()), classes=self.header_classes())
        yield Static(literal(self.message.content), classes="block-body")


PIN_MARK = "◆ pinned"
# Said of a "length" finish when nothing better is known (no window, no limits).
CUT_NOTE = "cut off by the server (finish_reason: length)"


def _assistant_header(message: Message, note: str | None = None) -> str:
    """``note`` is the core's finish_note: why the reply stopped (output limit, or the end
    of the context window); a plain "length" is not assumed to be the output limit."""
    parts = ["Assistant"]
    if message.model:
        parts.append(one_line(message.model))
    if message.status == MessageStatus.STREAMING:
        parts.append("streaming…")
    elif message.status == MessageStatus.INTERRUPTED and not message.error:
        parts.append("interrupted")
    elif note:
        parts.append(note)
    elif message.finish_reason == "length":
        parts.append(CUT_NOTE)
    elif message.finish_reason == "content_filter":
        parts.append("stopped by the content filter")
    if message.pinned:
        parts.append(PIN_MARK)
    return " · ".join(parts)


class AssistantBlock(MessageBlock):
    """An assistant reply; while streaming, deltas are appended to its Markdown."""

    def __init__(self, message: Message, *, live_text: str | None = None) -> None:
        super().__init__(message, classes="assistant-block")
        # Only a reply this session is receiving grows; anything else is rendered whole.
        self.live = live_text is not None
        self._initial = message.content if live_text is None else live_text
        self.note: str | None = None  # why the reply stopped early (finish_note)

    def header_text(self) -> str:
        header = self.with_branch(_assistant_header(self.message, self.note))
        # The pane's usage toggle (u); a reply still streaming has no usage yet.
        pane = self.parent
        if getattr(pane, "show_usage", False) and not self.live:
            lookup = getattr(pane, "price_lookup", None)
            header += "\n" + reply_usage_text(self.message,
                                               lookup(self.message) if lookup else None)
        return header

    def set_note(self, note: str | None) -> None:
        self.note = note
        self.refresh_header()

    def refresh_header(self) -> None:
        for header in self.query(".block-header").results(Label):  # none before compose
            header.update(literal(self.header_text()))

    def header_classes(self) -> str:
        # State classes sit on the header, not the block: changing a class restyles the whole
        # subtree, and a finished reply can hold hundreds of block views.
        classes = ["block-header"]
        if self.message.pinned:
            classes.append("-pinned")
        if self.live:
            classes.append("-streaming")
        if self.message.status == MessageStatus.INTERRUPTED:
            classes.append("-interrupted")
        return " ".join(classes)

    def compose(self) -> ComposeResult:
        yield Label(literal(self.header_text()), classes=self.header_classes())
        if self.live:
            self._markdown = StreamingMarkdown(self._initial)
        else:
            self._markdown = StreamingMarkdown()
            self._markdown.set_text(self._initial)
        yield self._markdown

    @property
    def markdown(self) -> StreamingMarkdown:
        # Kept from compose(): append() runs per streamed token, a DOM query each time adds up.
        return self._markdown

    @property
    def text(self) -> str:
        # A block queried while it mounts (a reload) has no markdown yet: its text is the
        # one it was made with.
        markdown = getattr(self, "_markdown", None)
        return markdown.text if markdown is not None else self._initial

    def copy_text(self) -> str:
        return self.text

    def append(self, text: str) -> None:
        markdown = getattr(self, "_markdown", None)
        if markdown is None:
            # Not composed yet: a delta can come before the block has mounted (a retry's
            # first words, on a loaded machine). The Markdown starts with it.
            if self.live:
                self._initial += text
            return
        if not markdown.finished:
            markdown.append(text)

    def end_text(self) -> None:
        """All of the reply's text has arrived: show it whole now (it is stored next)."""
        markdown = getattr(self, "_markdown", None)  # none before compose
        if markdown is not None and not markdown.finished:
            markdown.finish(keep_runway=True)

    def settle_layout(self) -> None:
        """Lay the reply out again if the pane gave it less height than its text needs.

        At a fast reply's end (a pty, 5,000 tok/s: about 1 reply in 40, where the last code
        block or table opened) the pane sometimes kept an arrangement from before the last
        update: the block's content was 588 rows, the room it had 579, and the pane ended
        short of the reply's last words for good. The cause is in how layouts requested
        while the update's views mount are taken up; this check is the safety net.

        A block removed meanwhile (another chat opened within the delay) is still mounted
        for a moment but no longer attached, with no room at all: nothing to mend."""
        if not self.is_mounted or not self.is_attached:
            return
        markdown = self.markdown
        if (self.size.height < self.virtual_size.height
                or markdown.size.height < markdown.virtual_size.height):
            log.info("a finished reply had less room than its text: laid out again")
            # Textual measures a container from its arrangement cache, and a widget's
            # refresh(layout=True) clears its ancestors' caches, not its own: refreshing
            # only this block and its Markdown (as before) left the Markdown's stale
            # arrangement in place, and a stall seen at 5,000 tok/s stayed after two
            # checks. Each view under the reply is refreshed, so every level is measured
            # again.
            for view in markdown.walk_children():
                view.refresh(layout=True)
            self.refresh(layout=True)
            markdown.refresh(layout=True)

    def finish(self, message: Message) -> None:
        """The final stored message: fix up the header and the text if they differ."""
        self.message = message
        self.live = False
        markdown = getattr(self, "_markdown", None)
        if markdown is None:
            # Not composed yet: a short reply can end before its block has mounted (seen
            # with the history planned in a thread, on a loaded machine). The block then
            # composes as a stored reply, its text the stored one.
            self._initial = message.content
            return
        header = self.query_one(".block-header", Label)
        header.set_classes(self.header_classes())
        if markdown.text == message.content and not markdown.finished:
            markdown.finish()
        elif markdown.text != message.content:
            markdown.set_text(message.content)
        markdown.close_runway()  # stored: the blank rows kept below the text go
        header.update(literal(self.header_text()))


class ErrorBlock(ChatBlock):
    """A failed request: the error in the server's words and what to do about it."""

    def __init__(self, sort_key: str, error: str, kind: str | None = None) -> None:
        super().__init__(sort_key, classes="error-block")
        self.error = error
        self.kind = kind

    def compose(self) -> ComposeResult:
        yield Label("Error", classes="block-header")
        yield Static(literal(self.error), classes="block-body")
        yield Label(ERROR_HINTS.get(self.kind or "", DEFAULT_HINT), classes="error-hint")

    def copy_text(self) -> str:
        return self.error


class SummaryBlock(ChatBlock):
    """A rolling summary, collapsed by default, placed after the last message it covers."""

    def __init__(self, summary: Summary) -> None:
        super().__init__(f"{summary.last_message_id}~summary~{summary.id}",
                         classes="summary-block")
        self.summary = summary

    def compose(self) -> ComposeResult:
        count = self.summary.covered_count
        title = f"Summary of {count} earlier message{'s' if count != 1 else ''}"
        if self.summary.token_count is not None:
            title += f" · {self.summary.token_count:,} tokens"
        with Collapsible(title=title, collapsed=True):
            yield Static(literal(self.summary.content), classes="block-body")

    def copy_text(self) -> str:
        return self.summary.content


class NoticeBlock(ChatBlock):
    """A one-line note from the context manager, e.g. messages left out of a request."""

    def __init__(self, sort_key: str, text: str) -> None:
        super().__init__(sort_key, classes="notice-block")
        self.text = text

    def compose(self) -> ComposeResult:
        yield Label(literal(self.text), classes="notice-text")

    def copy_text(self) -> str:
        return self.text


def blocks_for(message: Message, *, live_text: str | None = None,
               error_kind: str | None = None) -> list[ChatBlock]:
    """The blocks that show a stored message.

    A reply that failed before any text is an error block; one cut off mid-way keeps its text
    and gets an error block after it.
    """
    if message.status == MessageStatus.ERROR:
        return [ErrorBlock(message.id, message.error or message.content or "Request failed",
                           error_kind)]
    if message.role == Role.USER:
        return [UserBlock(message)]
    blocks: list[ChatBlock] = [AssistantBlock(message, live_text=live_text)]
    if message.error:
        blocks.append(ErrorBlock(f"{message.id}~error", message.error, error_kind))
    return blocks
