"""The conversation view's keys (:class:`ChatPane`): moving between blocks, and what the
keys do to the focused one (copy, delete, pin, edit, switch versions, fork).

Each asks the app through a message (tui/ui/widgets/chat_pane_messages.py); the pane itself
changes nothing stored.
"""

from __future__ import annotations

from textual import events

from tui.core.code_blocks import plain_text
from tui.core.models import Role
from tui.ui.widgets.message_blocks import MessageBlock


class PaneKeys:
    """Mixed into ChatPane (whose ``BINDINGS`` name these actions): a plain class, not a
    ``Widget``, for the reason OneLayoutPass gives."""

    conversation_id: str | None
    has_older: bool
    has_newer: bool

    # -- moving between blocks -------------------------------------------------------------

    _focus_memory: tuple[str, int] | None = None
    """(sort key, index) of the block that last had the focus."""

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for index, block in enumerate(self.blocks):
            if block is event.widget:
                self._focus_memory = (block.sort_key, index)
                return

    def _focused_index(self) -> int | None:
        """The focused block's index. When the pane itself has the focus because the block
        that had it was replaced (a regenerated reply, another version of a message), the
        block now in its place: the keys said "Focus a message first" though the footer
        still offered them. It takes the focus too."""
        focused = self.screen.focused
        blocks = self.blocks
        for index, block in enumerate(blocks):
            if block is focused:
                return index
        if focused is not self or self._focus_memory is None or not blocks:
            return None
        key, index = self._focus_memory
        index = next((i for i, block in enumerate(blocks) if block.sort_key == key),
                     min(index, len(blocks) - 1))
        blocks[index].focus(scroll_visible=False)
        return index

    def _focus_block(self, index: int) -> None:
        blocks = self.blocks
        if not blocks:
            return
        index = max(0, min(index, len(blocks) - 1))
        blocks[index].focus(scroll_visible=False)
        self.scroll_to_widget(blocks[index], animate=False, top=False)

    def action_previous_block(self) -> None:
        index = self._focused_index()
        if index is None:
            self._focus_block(len(self.blocks) - 1)
        elif index == 0:
            self.request_older()
        else:
            self._focus_block(index - 1)

    def action_next_block(self) -> None:
        index = self._focused_index()
        if index is not None and index == len(self.blocks) - 1:
            self.request_newer()
        self._focus_block(len(self.blocks) - 1 if index is None else index + 1)

    def action_first_block(self) -> None:
        """The conversation's first message: straight to the first page when older pages
        exist (one page read, not every page on the way)."""
        if self.has_older and self.conversation_id is not None:
            self.post_message(self.FirstWanted(self.conversation_id))
            return
        self.focus_edge(last=False)

    def action_last_block(self) -> None:
        if self.has_newer and self.conversation_id is not None:
            self.post_message(self.LastWanted(self.conversation_id))
            return
        self.focus_edge(last=True)

    def focus_edge(self, *, last: bool) -> None:
        """Focus the first (or last) mounted block and scroll to that end."""
        blocks = self.blocks
        if not blocks:
            return
        blocks[-1 if last else 0].focus(scroll_visible=False)
        if last:
            self.scroll_end(animate=False, immediate=True)
        else:
            self.scroll_home(animate=False, immediate=True)

    def action_copy_block(self) -> None:
        index = self._focused_index()
        if index is not None:
            self.post_message(self.CopyRequested(self.blocks[index].copy_text()))

    def action_copy_plain(self) -> None:
        """The focused message without its Markdown (emphasis, links, fences)."""
        index = self._focused_index()
        if index is not None:
            block = self.blocks[index]
            text = block.copy_text()
            self.post_message(self.CopyRequested(
                plain_text(text) if isinstance(block, MessageBlock) else text))

    def action_copy_code(self, number: int = 0) -> None:
        """Code block ``number`` (from 1; 0: the last) of the focused reply."""
        index = self._focused_index()
        if index is not None:
            self.post_message(self.CodeCopyRequested(self.blocks[index], number or None))

    def action_copy_mode(self) -> None:
        """Ask for copy mode over the loaded conversation's text, at the focused block."""
        parts: list[str] = []
        line = 0
        focused = self._focused_index()
        for index, block in enumerate(self.blocks):
            if index == focused:
                line = sum(part.count("\n") + 1 for part in parts) + len(parts)
            text = block.copy_text()
            if isinstance(block, MessageBlock):
                text = f"{'You' if block.message.role == 'user' else 'Assistant'}:\n{text}"
            parts.append(text)
        self.post_message(self.CopyModeRequested("\n\n".join(parts), line))

    def on_key(self, event: events.Key) -> None:
        """1-9 on a focused reply: copy its code block with that number."""
        if (event.character and event.character in "123456789"
                and self._focused_index() is not None):
            event.stop()
            self.action_copy_code(int(event.character))

    def action_delete_block(self) -> None:
        """Only stored messages can go (a failed reply's error block is one; notices,
        summaries or an unsent marker are not)."""
        index = self._focused_index()
        if index is None:
            self.notify("Focus a message first (ctrl+o, then j/k).", severity="warning")
            return
        block = self.blocks[index]
        if "~" in block.sort_key:
            self.notify("Only messages can be deleted.", severity="warning")
            return
        self.post_message(self.DeleteRequested(block.sort_key, block.copy_text()))

    def action_pin_block(self) -> None:
        """Pin the focused message (sent with every request) or unpin it."""
        block = self._focused_message()
        if block is not None:
            self.post_message(self.PinRequested(block.message.id, not block.message.pinned))

    def message_block(self, *, role: Role | None = None) -> MessageBlock | None:
        """The focused stored message (of ``role``, if given), else the nearest one above
        it, else the newest one."""
        index = self._focused_index()
        blocks = self.blocks if index is None else self.blocks[:index + 1]
        for block in reversed(blocks):
            if isinstance(block, MessageBlock) and "~" not in block.sort_key and (
                    role is None or block.message.role == role):
                return block
        return None

    def _focused_message(self) -> MessageBlock | None:
        index = self._focused_index()
        if index is None:
            self.notify("Focus a message first (ctrl+o, then j/k).", severity="warning")
            return None
        block = self.blocks[index]
        if not isinstance(block, MessageBlock) or "~" in block.sort_key:
            self.notify("That is not a message.", severity="warning")
            return None
        return block

    def action_edit_block(self) -> None:
        """Edit the focused message of yours and resend it (a new branch from there)."""
        block = self._focused_message()
        if block is None:
            return
        if block.message.role != Role.USER:
            self.notify("Only your own messages can be edited; ctrl+r asks for another "
                        "answer.", severity="warning")
            return
        self.post_message(self.EditRequested(block.message.id, block.message.content))

    def action_branch(self, step: int) -> None:
        """Show the previous (-1) or next (1) version of the focused message."""
        block = self._focused_message()
        if block is None:
            return
        if block.branch is None:
            self.notify("This message has no other versions.", severity="warning")
            return
        self.post_message(self.BranchRequested(block.message.id, step))

    def action_fork_block(self) -> None:
        block = self._focused_message()
        if block is not None:
            self.post_message(self.ForkRequested(block.message.id))
