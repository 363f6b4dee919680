"""The main screen's key actions (:class:`MainScreen` ``BINDINGS``, ``keys.SCREEN``): focus,
chats, copying, the conversation and tree actions, and the context keys.

Each only hands the key to the helper that owns the work (``ChatOpener``,
``ConversationActions``, ``BranchActions``, ``ContextTracker``...): kept apart from the
screen so the screen's module holds its state and the messages it routes, and this one the
list of what a key does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input, TextArea

from tui.ui import copy_actions

if TYPE_CHECKING:
    from textual.widget import Widget

    from tui.core.models import Conversation
    from tui.ui.branch_actions import BranchActions
    from tui.ui.chat_opener import ChatOpener
    from tui.ui.context_tracker import ContextTracker
    from tui.ui.reply_streams import ReplyStreams
    from tui.ui.screens.conversation_actions import ConversationActions
    from tui.ui.screens.sending import Sender
    from tui.ui.widgets.chat_pane import ChatPane
    from tui.ui.widgets.chat_view import ChatView
    from tui.ui.widgets.composer import Composer
    from tui.ui.widgets.sidebar import Sidebar


class MainScreenKeys:
    """Mixed into MainScreen (whose ``BINDINGS`` name these actions): a plain class, not a
    ``Screen``, for the reason OneLayoutPass gives (Textual reads default CSS along the first
    ``DOMNode`` base). Message handlers (``@on``) stay on the screen: Textual collects them
    only from a message pump's own class body. The state it works on is MainScreen's."""

    # MainScreen's reactives, properties and helpers.
    conversation: Conversation | None
    streaming_here: bool
    sidebar_visible: bool
    focused: Widget | None
    sidebar: Sidebar
    composer: Composer
    pane: ChatPane
    chat_view: ChatView
    streams: ReplyStreams
    opener: ChatOpener
    sender: Sender
    actions: ConversationActions
    branches: BranchActions
    context: ContextTracker

    # -- keys: sending and the tree (see Sender, BranchActions) ------------------------------

    async def action_regenerate(self) -> None:
        await self.sender.regenerate()

    def action_edit_message(self) -> None:
        self.branches.edit_target()

    async def action_branch(self, step: int) -> None:
        await self.branches.switch_target(step)

    async def action_fork_chat(self) -> None:
        await self.branches.fork_target()

    async def action_delete_message(self) -> None:
        await self.branches.delete_target()

    # -- keys: focus (set at once, so keys typed right after land in the new place) ----------

    def action_toggle_sidebar(self) -> None:
        self.sidebar_visible = not self.sidebar_visible

    def action_focus_search(self, key: str = "") -> None:
        self.sidebar_visible = True
        self.set_focus(self.sidebar.search_box)

    def action_focus_list(self) -> None:
        self.sidebar_visible = True
        self.set_focus(self.sidebar.conversation_list)

    def action_focus_composer(self) -> None:
        self.set_focus(self.composer)

    def action_focus_messages(self) -> None:
        blocks = self.pane.blocks
        self.set_focus(blocks[-1] if blocks else self.pane)

    # -- keys: chats -------------------------------------------------------------------------

    async def action_new_chat(self) -> None:
        await self.opener.new_chat()

    async def action_next_chat(self) -> None:
        await self.opener.step(1)

    async def action_previous_chat(self) -> None:
        await self.opener.step(-1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and parameters == ("slash",):
            return not isinstance(self.focused, (Input, TextArea))  # there "/" is text
        if action == "cancel_stream":
            # Only claim Escape (and show "Stop reply") while a reply streams here.
            return self.streaming_here
        return True

    def action_cancel_stream(self) -> None:
        live = self.streams.get(self.conversation.id if self.conversation else None)
        if live is None:
            return
        begun = live.reply_begun
        live.cancel()
        if begun:
            self.notify("Reply stopped; what arrived is kept.")
        else:  # a summary of a slow model can take a while: nothing was asked yet
            self.notify("Stopped before the reply began; Ctrl+R sends your message again.")

    # -- keys: copy and the conversation actions (see ConversationActions) -------------------

    def action_copy(self) -> None:
        """A mouse selection, when there is one; else the focused message or the last reply."""
        copy_actions.copy_for_screen(self)

    def action_copy_plain(self) -> None:
        self.chat_view.copy(self.focused, plain=True)

    def action_pick_code(self) -> None:
        """A picker of the focused message's (else the last reply's) code blocks."""
        copy_actions.pick_code(self)

    async def action_rename(self) -> None:
        await self.actions.rename()

    async def action_delete(self) -> None:
        await self.actions.delete()

    async def action_pin(self) -> None:
        await self.actions.pin()

    async def action_archive(self) -> None:
        await self.actions.archive()

    async def action_export(self) -> None:
        await self.actions.export()

    def action_pick_model(self) -> None:
        self.actions.pick_model()

    async def action_edit_system_prompt(self) -> None:
        await self.actions.edit_system_prompt()

    async def action_cycle_strategy(self) -> None:
        await self.actions.cycle_strategy()

    async def action_chat_settings(self) -> None:
        await self.actions.edit_settings()

    def action_personas(self) -> None:
        self.actions.personas()

    def action_usage_panel(self) -> None:
        self.actions.usage_panel()

    def action_toggle_usage(self) -> None:
        self.pane.show_usage = not self.pane.show_usage

    # -- keys: context (the preview, a learned window; see ContextTracker) -------------------

    def action_context_preview(self) -> None:
        self.context.open_preview()

    async def action_forget_window(self) -> None:
        await self.context.forget_window()
