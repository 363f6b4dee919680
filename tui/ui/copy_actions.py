"""What the copy keys copy: a message (as Markdown source or plain text) or a code block
of a reply. The chosen text goes to ``App.copy_to_clipboard``, which takes the honest path
(tui.core.clipboard) and says which one it took."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

from tui.core.code_blocks import CodeBlock, code_blocks, plain_text
from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.message_blocks import AssistantBlock, ChatBlock, MessageBlock

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen


def reply_for(pane: ChatPane, focused: object) -> AssistantBlock | None:
    """The focused reply, else the last one."""
    if isinstance(focused, AssistantBlock):
        return focused
    replies = [block for block in pane.blocks if isinstance(block, AssistantBlock)]
    return replies[-1] if replies else None


def message_text(pane: ChatPane, focused: object, *, plain: bool = False) -> str:
    """The focused block's text, else the last reply's; ``plain`` drops the Markdown of a
    message (other blocks are plain already)."""
    block = focused if isinstance(focused, ChatBlock) else reply_for(pane, None)
    if block is None:
        return ""
    text = block.copy_text()
    return plain_text(text) if plain and isinstance(block, MessageBlock) else text


def reply_code_blocks(pane: ChatPane, focused: object) -> list[CodeBlock]:
    """The code blocks of the focused message (a pasted snippet counts too), else of the
    last reply."""
    message = focused if isinstance(focused, MessageBlock) else reply_for(pane, focused)
    return code_blocks(message.copy_text()) if message is not None else []


def copy(widget: Widget, text: str) -> None:
    if not text:
        widget.notify("Nothing to copy.", severity="warning")
        return
    widget.app.copy_to_clipboard(text)


def copy_code(widget: Widget, blocks: list[CodeBlock], number: int | None) -> None:
    """Copy block ``number`` (the last one if None), or say why not."""
    if not blocks:
        widget.notify("This reply has no code blocks.", severity="warning")
        return
    if number is None:
        number = blocks[-1].number
    if not 1 <= number <= len(blocks):
        count = f"{len(blocks)} code block{'s' if len(blocks) != 1 else ''}"
        widget.notify(f"This reply has {count}: there is no #{number}.", severity="warning")
        return
    copy(widget, blocks[number - 1].code)


def copy_for_screen(screen: MainScreen) -> None:
    """A mouse selection, when there is one (as Ctrl+C copies it); else the focused
    message or the last reply."""
    selected = screen.get_selected_text()
    if selected:
        screen.app.copy_to_clipboard(selected)
        return
    screen.chat_view.copy(screen.focused)


def pick_code(screen: MainScreen) -> None:
    """A picker of the focused message's (else the last reply's) code blocks."""
    focused = screen.focused
    blocks = screen.chat_view.code_blocks(focused)
    if len(blocks) <= 1:
        screen.chat_view.copy_code(focused)  # one block (or none: says so)
        return

    def picked(number: int | None) -> None:
        if number is not None:
            copy_code(screen, blocks, number)

    from tui.ui.screens.code_picker import CodePickerScreen  # imported when shown

    screen.app.push_screen(CodePickerScreen(blocks), picked)
