"""Running a chat flow and rendering its events on the main screen.

``tui.core.chat`` yields events (user message stored, deltas, retries, notices, finish,
failure); this mixin iterates them in a Textual worker per conversation and turns each into
pane, status and sidebar updates. The stream's state lives in a :class:`LiveStream`, so a
reply keeps arriving while another chat is shown and reappears, still growing, on return.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, Callable

from tui.core import chat as flow_events
from tui.core.models import Conversation, MessageStatus, Role
from tui.core.services import Services
from tui.core.store import Store, StoreError
from tui.ui.screens.live import LiveStream, LiveStreams
from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.composer import Composer
from tui.ui.widgets.conversation_list import ConversationList
from tui.ui.widgets.status_line import StatusLine

log = logging.getLogger(__name__)


class FlowEventsMixin:
    """Start, render and stop reply streams; mixed into the main screen, which provides
    the state and widgets annotated below (and Textual's ``notify`` / ``run_worker``)."""

    services: Services
    store: Store
    conversation: Conversation | None
    meter: Any
    streams: LiveStreams
    notices: dict[str, list[tuple[str, str]]]
    error_kinds: dict[str, str]
    drafts: dict[str | None, str]
    pane: ChatPane
    composer: Composer
    status: StatusLine
    conversation_list: ConversationList
    notify: Callable[..., None]
    run_worker: Callable[..., Any]
    call_after_refresh: Callable[..., Any]
    _refresh_status: Callable[[], None]
    _rebuild_meter: Callable[[], None]
    _reload_pane: Callable[..., Any]

    def _start_flow(self, cid: str, events: AsyncIterator[Any], *, sent_text: str | None = None,
                    reload_first: bool = False) -> LiveStream:
        live = LiveStream(cid, sent_text=sent_text, reload_first=reload_first)
        self.streams[cid] = live
        live.worker = self.run_worker(self._run_flow(live, events), group=f"flow-{cid}",
                                      exit_on_error=False)
        self._refresh_status()
        return live

    def _is_current(self, cid: str) -> bool:
        return self.conversation is not None and self.conversation.id == cid

    async def _run_flow(self, live: LiveStream, events: AsyncIterator[Any]) -> None:
        cid = live.conversation_id
        try:
            async for event in events:
                if live.reload_first:
                    live.reload_first = False
                    if self._is_current(cid):
                        await self._reload_pane()
                await self._on_flow_event(live, event)
        except asyncio.CancelledError:
            self._after_cancel(live)
            raise
        except Exception as error:  # a store or programming error: show it, keep going
            log.exception("the chat flow failed")
            self._show_failure(live, str(error) or type(error).__name__, "error")
        finally:
            if self.streams.get(cid) is live:
                del self.streams[cid]
            self._refresh_status()

    async def _on_flow_event(self, live: LiveStream, event) -> None:
        cid = live.conversation_id
        current = self._is_current(cid)
        if isinstance(event, flow_events.AssistantDelta):
            live.parts.append(event.text)
            if current:
                self.pane.append_delta(event.message_id, event.text)
            return
        if isinstance(event, flow_events.UserMessageStored):
            live.user_message = event.message
            live.state = "waiting for the model…"
            if current:
                self.pane.add_message(event.message)
                if self.meter is not None:
                    self.meter.append(event.message)
                if live.sent_text is not None and self.composer.text == live.sent_text:
                    self.composer.clear()
            elif live.sent_text is not None:
                if self.drafts.get(cid) == live.sent_text:
                    self.drafts.pop(cid)
            self.conversation_list.reload()
        elif isinstance(event, flow_events.TitleUpdated):
            if current:
                self.conversation = self.store.get_conversation(cid)
            self.conversation_list.reload()
        elif isinstance(event, flow_events.ContextNotice):
            self._on_notice(live, event, current)
        elif isinstance(event, flow_events.AssistantStarted):
            live.message_id = event.message.id
            live.parts = []
            live.progressed("streaming…", "streaming")
            if current:
                self.pane.add_message(event.message, live_text="")
        elif isinstance(event, flow_events.RetryWait):
            live.waiting(event.delay, event.reason)
        elif isinstance(event, flow_events.AssistantFinished):
            if current:
                self.pane.finish_message(event.message)
                if self.meter is not None:
                    self.meter.append(event.message)
            if self.streams.get(cid) is live:
                del self.streams[cid]
            # After the reply's last words are painted: the list can wait a frame.
            self.call_after_refresh(self.conversation_list.reload)
        elif isinstance(event, flow_events.FlowFailed):
            self._on_failed(live, event, current)
        self._refresh_status()

    def _on_notice(self, live: LiveStream, event, current: bool) -> None:
        cid = live.conversation_id
        if event.kind == "summarized" and event.summary is not None:
            if current:
                self.pane.add_summary(event.summary)
                self._rebuild_meter()
            return
        if event.kind in ("window_learned", "overflow_retry") and live.message_id is not None:
            # The core deleted the reply that hit the limit and tries again.
            if current:
                self.pane.remove_key(live.message_id)
            live.message_id = None
        anchor = live.user_message.id if live.user_message else "~"
        notes = self.notices.setdefault(cid, [])
        key = f"{anchor}~notice~{len(notes):03d}"
        notes.append((key, event.text))
        if current:
            self.pane.add_notice(key, event.text)
        if event.kind == "summary_failed":
            self.notify(event.text, severity="warning")

    def _on_failed(self, live: LiveStream, event, current: bool) -> None:
        cid = live.conversation_id
        if self.streams.get(cid) is live:
            del self.streams[cid]
        if event.kind == "empty":
            self.notify(event.error, severity="warning")
            return
        if event.message is not None:
            self.error_kinds[event.message.id] = event.kind
            if current:
                self.pane.finish_message(event.message, error_kind=event.kind)
        else:
            self._show_failure(live, event.error, event.kind)
        if current:
            self.status.set_state(f"error: {event.error}", "error")
        self.conversation_list.reload()

    def _show_failure(self, live: LiveStream, error: str, kind: str) -> None:
        if not self._is_current(live.conversation_id):
            self.notify(f"A reply failed in another chat: {error}", severity="error")
            return
        anchor = live.user_message.id if live.user_message else "~"
        self.pane.add_error(f"{anchor}~error", error, kind)

    def _after_cancel(self, live: LiveStream) -> None:
        """The core stored the partial reply as interrupted; show that."""
        if live.message_id is None or not self._is_current(live.conversation_id):
            return
        try:
            message = self.store.get_message(live.message_id)
        except StoreError:
            log.exception("could not reload the finished message")
            return
        self.pane.finish_message(message)

    def action_cancel_stream(self) -> None:
        cid = self.conversation.id if self.conversation else None
        live = self.streams.get(cid) if cid else None
        if live is not None:
            live.cancel()
            self.notify("Reply stopped; what arrived is kept.")

    def action_regenerate(self) -> None:
        conversation = self.conversation
        if conversation is None:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        if conversation.id in self.streams:
            self.notify("A reply is still streaming: press Esc to stop it first.",
                        severity="warning")
            return
        tail = self.store.load_messages(conversation.id, limit=1)
        if not tail:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        last = tail[-1]
        failed = last.role == Role.USER or last.status == MessageStatus.ERROR or bool(last.error)
        flow = self.services.flow
        events = flow.retry(conversation.id) if failed else flow.regenerate(conversation.id)
        self._start_flow(conversation.id, events, reload_first=True)
