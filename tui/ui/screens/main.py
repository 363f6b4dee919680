"""The main screen: it composes the sidebar, the chat view, the composer and the status line,
and holds the few facts they all follow.

State lives in one place each:

* ``conversation``: the open conversation (a reactive; the sidebar and the status line
  watch it; ``streaming_here``, derived from it and ``replies``, drives the footer);
* ``replies``: which conversations have a reply streaming, and in what state (published by
  :class:`ReplyStreams`, whose workers post the flow's events as Textual messages);
* ``failures``: the last error per conversation, until the next try;
* the sidebar's mode (list / archived / search) lives in the sidebar.

The screen's own handlers only route: a flow message the chat view rendered bubbles up here
and :class:`FlowEffects` refreshes the list, the meter and the composer. Sending and the
conversation actions (regenerate, rename, delete...) are in :class:`ConversationActions`, the
meter in :class:`ContextTracker`, opening a chat (or a new one) in :class:`ChatOpener`; what
each key does is in :class:`MainScreenKeys` (``main_keys``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import TextArea

from tui.core.flow_events import Seen
from tui.core.meter import ContextMeter
from tui.core.models import Conversation
from tui.core.services import Services, needs_setup
from tui.core.session import NewConversation, conversation_to_open, new_conversation_spec
from tui.core.store import StoreError
from tui.ui import flow_messages as fm
from tui.ui import keys
from tui.ui.branch_actions import BranchActions
from tui.ui.chat_opener import ChatOpener
from tui.ui.compose_tools import ComposeTools
from tui.ui.context_tracker import ContextTracker
from tui.ui.covered_compositor import CoveredCompositor
from tui.ui.drafts import DraftKeeper
from tui.ui.flow_effects import FlowEffects
from tui.ui.reply_streams import ReplyState, ReplyStreams
from tui.ui.screens.conversation_actions import ConversationActions
from tui.ui.screens.main_keys import MainScreenKeys
from tui.ui.screens.sending import Sender
from tui.ui.served_check import check_served_model
from tui.ui.setup_save import save_setup
from tui.ui.store_watch import StoreWatch
from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.chat_view import ChatView
from tui.ui.widgets.composer import Composer
from tui.ui.widgets.conversation_list import ConversationList
from tui.ui.widgets.key_footer import KeyFooter
from tui.ui.widgets.setup_panel import SetupPanel
from tui.ui.widgets.sidebar import Sidebar
from tui.ui.widgets.status_line import StatusLine

log = logging.getLogger(__name__)

# Below this width the sidebar floats over the chat (ctrl+b) instead of taking columns.
NARROW_WIDTH = 100


def context_settings(conversation: Conversation) -> tuple[object, ...]:
    """What the meter and the request plan depend on (a new title changes neither)."""
    return (conversation.model, conversation.strategy, conversation.system_prompt,
            conversation.context_window, conversation.max_output_tokens)


# The mixin is a plain class placed before Screen: Screen's default CSS stays found.
class MainScreen(MainScreenKeys, Screen):
    BINDINGS = keys.SCREEN

    conversation: reactive[Conversation | None] = reactive(None, init=False)
    # The unsaved chat on screen when ``conversation`` is None: stored with its first message.
    new_chat: reactive[NewConversation | None] = reactive(None, init=False)
    replies: reactive[dict[str, ReplyState]] = reactive(dict, init=False)
    # Derived from the two above: whether the open chat has a reply streaming. Only its
    # flips refresh the footer (Stop reply), not every title or state change.
    streaming_here: reactive[bool] = reactive(False, init=False, bindings=True)
    failures: reactive[dict[str, str]] = reactive(dict, init=False)
    narrow: reactive[bool] = reactive(False, init=False, bindings=True)
    sidebar_visible: reactive[bool] = reactive(True, init=False)

    def __init__(self, services: Services, *, now: Callable[[], datetime] | None = None,
                 conversation_page: int = 50) -> None:
        super().__init__()
        # Skips drawing what other widgets cover (tui.ui.covered_compositor).
        self._compositor = CoveredCompositor()
        self.services = services
        self._now = now
        self._conversation_page = conversation_page
        self.streams = ReplyStreams(self, lambda: self.chat_view, self._set_replies)
        self.actions = ConversationActions(self, services)
        self.branches = BranchActions(self, services)
        self.context = ContextTracker(self, services)
        self.drafts = DraftKeeper(self, services.store)
        self.sender = Sender(self, services)
        self.watcher = StoreWatch(self)
        self.compose_tools = ComposeTools(self)
        self.opener = ChatOpener(self)
        self.flow_effects = FlowEffects(self)
        # The provisional stream key of the unsaved chat's first send, until it is stored.
        self.pending_key: str | None = None

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        settings = self.services.settings
        with Horizontal(id="main"):
            yield Sidebar(self.services.store, now=self._now,
                          page_size=self._conversation_page, id="sidebar")
            with Vertical(id="chat-column"):
                if needs_setup(settings):
                    yield SetupPanel(id="setup")
                yield ChatView(self.services.store, self.streams, flow=self.services.flow,
                               id="chat-view")
                yield Composer(id="composer")
                yield StatusLine(default_model=settings.model,
                                 default_strategy=str(settings.strategy), id="status")
        yield KeyFooter()

    @property
    def store(self):
        return self.services.store

    @property
    def chat_view(self) -> ChatView:
        # Composed once and never replaced; asked for per streamed token (ReplyStreams).
        view = self.__dict__.get("_chat_view")
        if view is None:
            view = self._chat_view = self.query_one(ChatView)
        return view

    @property
    def pane(self) -> ChatPane:
        return self.query_one(ChatPane)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    def refresh_sidebar(self) -> None:
        """Show the stored conversations' changes in the list. Quitting removes the screen's
        widgets before the screen: a change answered just then finds no sidebar, and there
        is nothing to show (a fresh-clone CI run raised NoMatches from a dialog's save)."""
        for sidebar in self.query(Sidebar):
            sidebar.refresh_rows()

    @property
    def conversation_list(self) -> ConversationList:
        return self.sidebar.conversation_list

    async def on_mount(self) -> None:
        self.context.encoding.recount_once_loaded()
        # The composer takes keys at once: what is typed while the first chat loads is kept
        # for it (DraftKeeper.starting), where it used to go nowhere.
        if not self.query(SetupPanel):
            self.set_focus(self.composer)
            # By the clock Textual stamps events with (Message.time; not monotonic on Windows).
            self._composer_focused_at = events.Idle().time
        try:
            start = await asyncio.to_thread(self._starting_point)
        except StoreError:
            log.exception("finding the conversation to open failed")
            start = new_conversation_spec(self.services.settings)
        if isinstance(start, NewConversation):
            await self.show_new_chat(start)
        else:
            await self.open_conversation(start.id)
        self.drafts.starting = False
        self.watcher.start()
        self.call_after_refresh(check_served_model, self)
        if self.query(SetupPanel):
            self.set_focus(self.query_one("#setup-key"))
        else:
            self.set_focus(self.composer)

    _composer_focused_at = float("inf")

    def on_key(self, event: events.Key) -> None:
        """Keys typed before the composer had focus (while the app started, as a user who
        types right after launching does) reach the screen itself, not a widget: they are
        given to the composer, in order, so nothing typed is lost. A newline among them is
        Enter: typed before the app took the terminal over, the terminal turned it into one
        (ICRNL)."""
        if event.time >= self._composer_focused_at or self.focused is not self.composer:
            return
        if event.key in ("enter", "ctrl+j"):
            event.stop()
            self.composer.post_message(events.Key("enter", "\r"))
        elif event.is_printable:
            event.stop()
            self.composer.post_message(events.Key(event.key, event.character))

    def _starting_point(self) -> Conversation | NewConversation:
        """(In a thread.) What to open, after marking where another copy's writes start."""
        self.store.changed_elsewhere()
        return conversation_to_open(self.store, self.services.settings)

    def on_resize(self, event: events.Resize) -> None:
        self.narrow = event.size.width < NARROW_WIDTH

    def watch_narrow(self, narrow: bool) -> None:
        self.set_class(narrow, "-narrow")
        self.sidebar_visible = not narrow

    def watch_sidebar_visible(self, visible: bool) -> None:
        sidebar = self.sidebar
        sidebar.display = visible
        if not visible and self.focused is not None and sidebar in self.focused.ancestors:
            self.set_focus(self.composer)
        elif (visible and self.narrow and self.is_mounted and (
                self.focused is None or sidebar not in self.focused.ancestors)):
            # Narrow, it floats over the chat: keys typed next would go to the covered
            # composer (j into a hidden draft, Enter sending it) unless the list has focus.
            self.set_focus(sidebar.conversation_list)

    # -- the open conversation ---------------------------------------------------------------

    def is_open(self, conversation_id: str) -> bool:
        return self.conversation is not None and self.conversation.id == conversation_id

    def _set_replies(self, states: dict[str, ReplyState]) -> None:
        self.replies = states

    def _draft_key(self) -> str | None:
        return self.conversation.id if self.conversation else None

    async def show_new_chat(self, spec: NewConversation | None = None) -> None:
        """An empty, unsaved chat (stored with its first message) with this session's model."""
        await self.opener.show_new(spec)

    def watch_new_chat(self, old: NewConversation | None, spec: NewConversation | None) -> None:
        if spec is not None:
            self.status.set_defaults(spec.model, str(spec.strategy.value))
            if old is not None and old.model == spec.model:
                self.context.refresh()  # its settings changed (F7): re-meter
            else:  # once painted, like an opened chat: the meter and the window probe
                self.context.opened(spec.model, long=False)

    async def open_conversation(self, conversation_id: str, *,
                                message_id: str | None = None) -> None:
        """Show a conversation (at ``message_id`` for a search hit), keeping drafts apart."""
        await self.opener.open(conversation_id, message_id=message_id)

    def watch_replies(self) -> None:
        self._derive_streaming_here()
        self.context.encoding.replies_changed()

    def _derive_streaming_here(self) -> None:
        self.streaming_here = (self.conversation is not None
                               and self.conversation.id in self.replies)

    def watch_conversation(self, old: Conversation | None, new: Conversation | None) -> None:
        self._derive_streaming_here()
        if (old is not None and new is not None and old.id == new.id
                and context_settings(old) != context_settings(new)):
            self.context.refresh()  # same chat, new model / strategy / prompt / window
            if old.model != new.model:
                self.context.probe(new.model)

    @property
    def meter(self) -> ContextMeter | None:
        return self.context.meter

    @on(TextArea.Changed, "#composer")
    def _draft_changed(self) -> None:
        self.context.draft_changed()
        self.drafts.changed(self._draft_key(), self.composer.full_text)

    # -- sending (see Sender) ----------------------------------------------------------------

    @on(Composer.EditorWanted)
    def _open_editor(self, event: Composer.EditorWanted) -> None:
        self.compose_tools.open_editor(event.text)

    @on(Composer.AttachWanted)
    async def _attach_file(self, event: Composer.AttachWanted) -> None:
        await self.compose_tools.attach(event.query)

    @on(Composer.HistorySearchWanted)
    def _search_history(self) -> None:
        self.compose_tools.search_history()

    @on(Composer.Submitted)
    async def _send(self, event: Composer.Submitted) -> None:
        await self.sender.send(event.text, event.images)

    def seen(self) -> Seen:
        """What the open chat shows: a request never carries messages not shown yet."""
        return Seen(self.chat_view.newest_message_id())

    def clear_failure(self, cid: str) -> None:
        if cid in self.failures:
            self.failures = {k: v for k, v in self.failures.items() if k != cid}

    # -- what the flow's messages change outside the chat view (see FlowEffects) -------------

    @on(fm.ConversationCreated)
    def _conversation_created(self, message: fm.ConversationCreated) -> None:
        self.flow_effects.conversation_created(message)

    @on(fm.UserMessageStored)
    def _user_message_stored(self, message: fm.UserMessageStored) -> None:
        self.flow_effects.user_message_stored(message)

    @on(fm.ReplyFinished)
    def _reply_finished(self, message: fm.ReplyFinished) -> None:
        self.flow_effects.reply_finished(message)

    @on(fm.ReplyFailed)
    def _reply_failed(self, message: fm.ReplyFailed) -> None:
        self.flow_effects.reply_failed(message)

    @on(fm.FlowEnded)
    def _flow_ended(self, message: fm.FlowEnded) -> None:
        self.flow_effects.flow_ended(message)

    @on(fm.TitleChanged)
    async def _title_changed(self, message: fm.TitleChanged) -> None:
        await self.flow_effects.title_changed(message)

    @on(fm.ContextNoted)
    def _context_noted(self, message: fm.ContextNoted) -> None:
        self.flow_effects.context_noted(message)

    # -- the tree: edit, switch versions, fork, delete (see BranchActions) -------------------

    @on(ChatPane.EditRequested)
    def _edit_message(self, event: ChatPane.EditRequested) -> None:
        self.branches.edit(event.message_id, event.text)

    @on(ChatPane.BranchRequested)
    async def _switch_branch(self, event: ChatPane.BranchRequested) -> None:
        await self.branches.switch(event.message_id, event.step)

    @on(ChatPane.ForkRequested)
    async def _fork(self, event: ChatPane.ForkRequested) -> None:
        await self.branches.fork(event.message_id)

    @on(ChatPane.DeleteRequested)
    async def _delete_message(self, event: ChatPane.DeleteRequested) -> None:
        await self.branches.delete(event.message_id, event.text)

    # -- set-up (see setup_save) -------------------------------------------------------------

    @on(SetupPanel.Saved)
    def _save_setup(self, event: SetupPanel.Saved) -> None:
        save_setup(self, event)

    # -- opening a chat from the list, re-metering a pinned message --------------------------

    @on(ConversationList.Open)
    async def _open_from_list(self, event: ConversationList.Open) -> None:
        await self.open_conversation(event.conversation_id, message_id=event.message_id)
        if self.narrow:
            self.sidebar_visible = False  # the overlay would hide the chat just opened
        if event.message_id is None or self.narrow:
            self.set_focus(self.composer)

    @on(ChatView.MessagePinned)
    def _message_pinned(self, message: ChatView.MessagePinned) -> None:
        if self.is_open(message.conversation_id):
            self.context.refresh()
