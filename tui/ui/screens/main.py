"""The main screen: sidebar, chat pane, composer, status line.

It lays the screen out, opens conversations, searches, sends, and keeps the status line
current. Two mixins carry the rest: :class:`FlowEventsMixin` streams replies in Textual
workers (one per conversation, so the UI never blocks and a chat keeps streaming in the
background while another is shown) and renders the flow's events;
:class:`ConversationActionsMixin` holds the rename / delete / pin / archive / export /
model / system prompt / strategy actions.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, TextArea

from tui.core.config import ConfigError, save_settings
from tui.core.context import RequestPlan
from tui.core.models import Conversation
from tui.core.services import Services, needs_setup
from tui.core.store import NotFound, StoreError
from tui.ui.screens.conversation_actions import ConversationActionsMixin
from tui.ui.screens.flow_events import FlowEventsMixin
from tui.ui.screens.live import LiveStreams
from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.composer import Composer
from tui.ui.widgets.conversation_list import ConversationList
from tui.ui.widgets.message_blocks import AssistantBlock, ChatBlock
from tui.ui.widgets.setup_panel import SetupPanel
from tui.ui.widgets.sidebar import Sidebar
from tui.ui.widgets.status_line import StatusLine

log = logging.getLogger(__name__)

# Messages mounted when a conversation opens, and per "load older" step.
MESSAGE_PAGE = 50
# Meter refresh while typing: at most this often (seconds).
METER_THROTTLE = 0.15
# A search hit deep in a long chat: how many pages back we look for it.
MAX_JUMP_PAGES = 40
EMPTY_PANE = "No messages yet. Type below and press Enter."


class MainScreen(FlowEventsMixin, ConversationActionsMixin, Screen):
    BINDINGS = [
        Binding("ctrl+n", "new_chat", "New chat", priority=True),
        Binding("alt+up,ctrl+pageup", "previous_chat", "Previous chat", priority=True,
                show=False),
        Binding("alt+down,ctrl+pagedown", "next_chat", "Next chat", priority=True,
                show=False),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", priority=True, show=False),
        Binding("ctrl+f", "focus_search", "Search", priority=True),
        Binding("slash", "focus_search", "Search", show=False),
        Binding("ctrl+l", "focus_list", "Conversation list", priority=True, show=False),
        Binding("ctrl+t", "focus_composer", "Composer", priority=True, show=False),
        Binding("ctrl+o", "focus_messages", "Messages", priority=True, show=False),
        Binding("escape", "cancel_stream", "Stop reply", priority=True),
        Binding("ctrl+r", "regenerate", "Regenerate / retry", priority=True),
        Binding("ctrl+y", "copy", "Copy reply", priority=True, show=False),
        Binding("ctrl+e", "export", "Export", priority=True, show=False),
        Binding("f2", "rename", "Rename", show=False),
        Binding("f3", "pick_model", "Model"),
        Binding("f4", "edit_system_prompt", "System prompt", show=False),
        Binding("f5", "cycle_strategy", "Strategy", show=False),
        Binding("f8", "delete", "Delete chat", show=False),
        Binding("f9", "pin", "Pin / unpin", show=False),
        Binding("f10", "archive", "Archive / unarchive", show=False),
    ]

    def __init__(self, services: Services, *, now: Callable[[], datetime] | None = None,
                 conversation_page: int = 50) -> None:
        super().__init__()
        self.services = services
        self._now = now
        self._conversation_page = conversation_page
        self.conversation: Conversation | None = None
        self.meter = None
        self.streams = LiveStreams()
        self.show_archived = False
        # Live-only notes per conversation (truncation markers): (sort key, text).
        self.notices: dict[str, list[tuple[str, str]]] = {}
        # FlowFailed.kind per failed message id, for the error hint after a reload.
        self.error_kinds: dict[str, str] = {}
        self.drafts: dict[str | None, str] = {}
        self._meter_timer: Timer | None = None

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield Sidebar(now=self._now, page_size=self._conversation_page, id="sidebar")
            with Vertical(id="chat-column"):
                if needs_setup(self.services.settings):
                    yield SetupPanel(id="setup")
                yield ChatPane(id="chat")
                yield Composer(id="composer")
                yield StatusLine(id="status")
        yield Footer()

    @property
    def store(self):
        return self.services.store

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

    @property
    def conversation_list(self) -> ConversationList:
        return self.query_one(ConversationList)

    async def on_mount(self) -> None:
        self.conversation_list.page_loader = self._load_page
        self.conversation_list.reload()
        latest = self.store.latest_conversation()
        if latest is not None:
            await self.open_conversation(latest.id)
        else:
            await self._show_empty()
        if self.query(SetupPanel):
            self.query_one("#setup-key").focus()
        else:
            self.composer.focus()
        self.set_interval(1.0, self._count_down_retries)

    def _count_down_retries(self) -> None:
        """Keep "retrying in Ns" current while a reply waits out a rate limit."""
        if any(live.retry_at is not None for live in self.streams.values()):
            self._refresh_status()

    def _load_page(self, limit: int, offset: int) -> list[Conversation]:
        return self.store.list_conversations(limit=limit, offset=offset,
                                             archived=self.show_archived)

    # -- opening conversations ---------------------------------------------------------------

    async def _show_empty(self) -> None:
        self.conversation = None
        self.meter = None
        self.conversation_list.set_current(None)
        await self.pane.show(None, [], placeholder=EMPTY_PANE)
        self._refresh_status()

    async def open_conversation(self, conversation_id: str, *,
                                message_id: str | None = None) -> None:
        """Show a conversation (at ``message_id`` for a search hit), keeping drafts apart."""
        previous = self.conversation.id if self.conversation else None
        if previous != conversation_id:
            self.drafts[previous] = self.composer.text
        try:
            self.conversation = self.store.get_conversation(conversation_id)
        except NotFound:
            log.info("the conversation to open is gone", exc_info=True)
            self.notify("That conversation no longer exists.", severity="warning")
            self.conversation_list.reload()
            return
        self.conversation_list.set_current(conversation_id)
        await self._reload_pane(message_id)
        if previous != conversation_id:
            self.composer.set_draft(self.drafts.pop(conversation_id, ""))
        self._rebuild_meter()

    async def _reload_pane(self, message_id: str | None = None) -> None:
        conversation = self.conversation
        if conversation is None:
            return
        cid = conversation.id
        messages = self.store.load_messages(cid, limit=MESSAGE_PAGE)
        has_older = len(messages) == MESSAGE_PAGE
        if message_id is not None:
            pages = 0
            while has_older and pages < MAX_JUMP_PAGES and message_id not in {
                    m.id for m in messages}:
                older = self.store.load_messages(cid, limit=MESSAGE_PAGE,
                                                 before_id=messages[0].id)
                messages = older + messages
                has_older = len(older) == MESSAGE_PAGE
                pages += 1
        live = self.streams.get(cid)
        live_text = {live.message_id: live.text} if live and live.message_id else {}
        await self.pane.show(cid, messages, summaries=self.store.list_summaries(cid),
                             notices=self.notices.get(cid, []), live=live_text,
                             has_older=has_older, placeholder=EMPTY_PANE)
        for block in self.pane.blocks:
            kind = self.error_kinds.get(block.sort_key.split("~")[0])
            if kind is not None and hasattr(block, "kind"):
                block.kind = kind
        if message_id is not None:
            target = self.pane.block(message_id)
            if target is not None:
                target.add_class("-search-hit")
                self.pane.anchor(False)
                self.call_after_refresh(self.pane.scroll_to_widget, target, animate=False,
                                        top=True)

    @on(ChatPane.NeedOlder)
    def _load_older(self, event: ChatPane.NeedOlder) -> None:
        if self.conversation is None or event.conversation_id != self.conversation.id:
            return
        older = self.store.load_messages(event.conversation_id, limit=MESSAGE_PAGE,
                                         before_id=event.before_id)
        self.pane.prepend(older, has_older=len(older) == MESSAGE_PAGE)

    @on(ConversationList.Open)
    async def _open_from_list(self, event: ConversationList.Open) -> None:
        await self.open_conversation(event.conversation_id, message_id=event.message_id)
        if event.message_id is None:
            self.composer.focus()

    @on(Sidebar.SearchRequested)
    def _search(self, event: Sidebar.SearchRequested) -> None:
        if not event.query:
            self.conversation_list.reload()
            return
        self._run_search(event.query, event.open_first)

    @work(exclusive=True, group="search", thread=True)
    def _run_search(self, query: str, open_first: bool) -> None:
        try:
            hits = self.store.search(query, limit=100, include_archived=True)
        except StoreError as error:
            log.exception("search failed")
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show_hits, query, hits, open_first)

    def _show_hits(self, query: str, hits, open_first: bool) -> None:
        if self.sidebar.search_box.value.strip() != query:
            return  # typing went on: a newer search is coming
        self.conversation_list.show_hits(hits)
        if open_first and hits:
            self.conversation_list.open_highlighted()

    # -- sending and streaming -------------------------------------------------------------

    @on(Composer.Submitted)
    async def _send(self, event: Composer.Submitted) -> None:
        if needs_setup(self.services.settings):
            self.notify("Set an API key or a server URL first (see the panel above).",
                        severity="warning")
            return
        if self.conversation is None:
            conversation = self.services.flow.new_conversation()
            self.conversation = conversation
            self.conversation_list.reload()
            await self.open_conversation(conversation.id)
        cid = self.conversation.id
        if cid in self.streams:
            self.notify("A reply is still streaming in this chat: press Esc to stop it, "
                        "or wait. Your draft is kept.", severity="warning")
            return
        self._start_flow(cid, self.services.flow.send(cid, event.text), sent_text=event.text)

    # -- status ------------------------------------------------------------------------------

    def _rebuild_meter(self) -> None:
        self._show_context()
        if self.conversation is not None:
            self._probe_window(self.conversation.model)

    def _show_context(self) -> None:
        """Meter and "not sent" marker for the current chat, from one load of its history."""
        conversation = self.conversation
        view = self.services.context_for(conversation) if conversation else None
        self.meter = view.meter if view else None
        self._refresh_status()
        self._mark_unsent(conversation, view.plan if view else None)

    def _mark_unsent(self, conversation: Conversation | None, plan: RequestPlan | None) -> None:
        """Show where the next request starts when older messages will be left out."""
        if conversation is None or plan is None or not plan.truncated or plan.to_summarize:
            self.pane.set_unsent_marker(None)
            return
        # Ids sort by time: what a summary covers is everything up to its last message.
        covered_up_to = plan.summary.last_message_id if plan.summary else ""
        unsent = [mid for mid in plan.dropped_ids if mid > covered_up_to]
        if not unsent:
            self.pane.set_unsent_marker(None)
            return
        window = self.services.flow.window_for(conversation)
        self.pane.set_unsent_marker(
            max(unsent),
            f"▲ {len(unsent)} earlier messages are not sent to the model: they don't fit the "
            f"{window:,}-token window ({conversation.strategy}). They stay in the transcript.")

    @work(exclusive=True, group="window-probe")
    async def _probe_window(self, model: str) -> None:
        """Ask a vLLM / llama.cpp server for the model's window (once a session) for the meter."""
        window = await self.services.flow.probe_server_window(model)
        conversation = self.conversation
        if window and conversation is not None and conversation.model == model:
            self._show_context()  # not _rebuild_meter: that would probe again

    def _refresh_status(self) -> None:
        if not self.query(StatusLine):
            return  # not composed yet
        status = self.status
        conversation = self.conversation
        status.set_model(conversation.model if conversation else self.services.settings.model)
        strategy = conversation.strategy if conversation else self.services.settings.strategy
        status.set_strategy(str(getattr(strategy, "value", strategy)))
        self._update_meter()
        cid = conversation.id if conversation else None
        live = self.streams.get(cid) if cid else None
        others = self.streams.others(cid)
        background = f" · {others} streaming in the background" if others else ""
        if live is not None:
            status.set_state(live.status_text() + background, live.kind)
        elif not status.query_one("#status-state").has_class("-error") or background:
            status.set_state(background.lstrip(" ·"), "")

    def _update_meter(self) -> None:
        self._meter_timer = None
        if self.meter is None:
            self.status.set_meter(None)
            return
        self.status.set_meter(self.meter.reading(self.composer.text))

    @on(TextArea.Changed, "#composer")
    def _draft_changed(self) -> None:
        # Throttled: a paste or fast typing costs one reading per interval, not per key.
        if self._meter_timer is None and self.meter is not None:
            self._meter_timer = self.set_timer(METER_THROTTLE, self._update_meter)

    # -- setup -------------------------------------------------------------------------------

    @on(SetupPanel.Saved)
    def _save_setup(self, event: SetupPanel.Saved) -> None:
        updates = {}
        if event.api_key:
            updates["api_key"] = event.api_key
        if event.base_url:
            updates["base_url"] = event.base_url
        try:
            path = save_settings(updates)
        except (ConfigError, OSError) as error:
            log.exception("could not save the settings")
            self.notify(f"Could not save the settings: {error}", severity="error")
            return
        self.services.reconfigure(api_key=event.api_key, base_url=event.base_url)
        self.query_one(SetupPanel).remove()
        self.notify(f"Saved to {path}")
        self._refresh_status()
        self.composer.focus()

    # -- actions: navigation -----------------------------------------------------------------

    def _show_sidebar(self) -> None:
        self.sidebar.display = True

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display
        if not sidebar.display and self.focused is not None and sidebar in self.focused.ancestors:
            self.composer.focus()

    def action_focus_search(self) -> None:
        self._show_sidebar()
        self.sidebar.search_box.focus()

    def action_focus_list(self) -> None:
        self._show_sidebar()
        self.conversation_list.focus()

    def action_focus_composer(self) -> None:
        self.composer.focus()

    def action_focus_messages(self) -> None:
        blocks = self.pane.blocks
        if blocks:
            blocks[-1].focus()
        else:
            self.pane.focus()

    async def action_new_chat(self) -> None:
        current = self.conversation
        if (current is not None and current.id not in self.streams
                and self.store.count_messages(current.id) == 0):
            self.composer.focus()  # already on an empty chat
            return
        conversation = self.services.flow.new_conversation()
        self.conversation_list.reload()
        await self.open_conversation(conversation.id)
        self.composer.focus()

    async def _step_chat(self, step: int) -> None:
        cid = self.conversation.id if self.conversation else None
        target = self.conversation_list.neighbour(cid, step)
        if target is not None and target != cid:
            await self.open_conversation(target)

    async def action_next_chat(self) -> None:
        await self._step_chat(1)

    async def action_previous_chat(self) -> None:
        await self._step_chat(-1)

    # -- actions: archived rows, Escape, copy ----------------------------------------------

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.sidebar.set_class(self.show_archived, "-archived")
        self.conversation_list.reload(keep_count=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_stream":
            # Only claim Escape while a reply streams here; otherwise it does its usual job.
            return self.conversation is not None and self.conversation.id in self.streams
        return True

    def action_copy(self) -> None:
        focused = self.focused
        text = ""
        if isinstance(focused, ChatBlock):
            text = focused.copy_text()
        else:
            replies = [b for b in self.pane.blocks if isinstance(b, AssistantBlock)]
            if replies:
                text = replies[-1].copy_text()
        if not text:
            self.notify("Nothing to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {len(text):,} characters")

    @on(ChatPane.CopyRequested)
    def _copy_block(self, event: ChatPane.CopyRequested) -> None:
        if event.text:
            self.app.copy_to_clipboard(event.text)
            self.notify(f"Copied {len(event.text):,} characters")

    # -- helpers for the app -----------------------------------------------------------------

    def binding_sections(self) -> list[tuple[str, list[Binding]]]:
        from tui.ui.widgets.sidebar import SearchBox

        return [
            ("Everywhere", list(self.BINDINGS)),
            ("Composer", list(Composer.BINDINGS)),
            ("Conversation list (ctrl+l)", [
                Binding("up,k", "", "Previous conversation"),
                Binding("down,j", "", "Next conversation"),
                Binding("enter", "", "Open"),
                *ConversationList.BINDINGS[2:],
            ]),
            ("Messages (ctrl+o)", list(ChatPane.BINDINGS)),
            ("Search box (ctrl+f)", [Binding("enter", "", "Open the highlighted hit"),
                                     *SearchBox.BINDINGS]),
        ]
