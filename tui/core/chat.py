"""The chat flow: store the user's text, fit the request to the window, stream, store the reply.

It is the one place that ties the store, the context planner and the model client together,
so the app and ``gpt-tui ask`` behave identically and the whole flow is testable headless.
Callers iterate the events and render them; they never touch the database for a reply.

Durability rules: the user's message is stored before the request leaves; the assistant's
message is created as ``streaming`` and its content flushed at most every ``FLUSH_INTERVAL``
seconds, so a crash or ``kill -9`` leaves the partial reply on disk; cancelling the iterating
task stores the partial reply as ``interrupted`` and re-raises. One reply's streaming and
storing is :func:`tui.core.flow_reply.stream_reply`; planning the request is
:class:`tui.core.flow_plan.FlowPlanner`'s.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import replace
from functools import partial
from typing import AsyncIterator

from tui.core.attachments import IMAGE_TOKENS, ImageFile
from tui.core.client import ChatClient, ContextLengthExceeded
from tui.core.config import Settings
from tui.core.flow_events import (
    FINISH_NOTES,
    AssistantDelta,
    AssistantFinished,
    AssistantStarted,
    AssistantStreamEnded,
    ContextNotice,
    ConversationCreated,
    FlowEvent,
    FlowFailed,
    RetryWait,
    Seen,
    StoreWaiting,
    TitleUpdated,
    UserMessageStored,
    finish_note,
)
from tui.core.context import ContextOverflow, RequestPlan
from tui.core.counting import ServerKnowledge
from tui.core.flow_plan import FlowPlanner, fingerprint
from tui.core.flow_reply import Overflow, request_params, stream_reply
from tui.core.locked_writes import (SIDE_PATIENCE, save_now_or_later, try_write,
                                    write_when_free)
from tui.core.models import Conversation, Message, Role, Strategy, Summary
from tui.core.session import NewConversation, new_conversation_spec, store_new_conversation
from tui.core.sizing import Sizer
from tui.core.store import NotFound, Store
from tui.core import tree
from tui.core.titles import title_from_text
from tui.core.tokens import TokenCounter
from tui.core.windows import WindowInfo, format_window

# Seconds between writes of a streaming reply's text (read here at each reply, so a test
# may change it on this module).
FLUSH_INTERVAL = 0.5
# Seconds a message waits to be stored while another program holds the database's write
# lock (the connection's busy timeout, but the app keeps running meanwhile).
SEND_PATIENCE = 5.0
# Overflow errors one send may answer by re-planning smaller before it gives up.
MAX_OVERFLOW_RETRIES = 3
# Each retry after an overflow keeps this share of the window more free than the last.
OVERFLOW_GROWTH = 0.03


class ChatFlow:
    """Runs conversations against one client and one store."""

    def __init__(self, store: Store, client: ChatClient, counter: TokenCounter,
                 settings: Settings) -> None:
        self.store = store
        self.counter = counter
        self.settings = settings
        self.knowledge = ServerKnowledge(store, counter, settings, client)
        self.planner = FlowPlanner(store, counter, settings, self.knowledge)
        self._client = client

    @property
    def client(self) -> ChatClient:
        return self._client

    @client.setter
    def client(self, client: ChatClient) -> None:
        """A new client (another server or key): what is learned follows its base URL."""
        self._client = client
        self.knowledge.client = client

    # -- conversations -------------------------------------------------------------------

    def new_conversation(self, *, model: str | None = None,
                         system_prompt: str | None = None,
                         strategy: Strategy | None = None) -> Conversation:
        """A stored, empty conversation with the config's defaults for what is not given."""
        spec = new_conversation_spec(self.settings, model=model, system_prompt=system_prompt,
                                     strategy=strategy)
        return store_new_conversation(self.store, spec)

    def window_info(self, conversation: Conversation) -> WindowInfo:
        """The window planned for, and where that figure came from."""
        return self.planner.window_info(conversation)

    def window_for(self, conversation: Conversation) -> int:
        return self.planner.window_for(conversation)

    async def too_long(self, conversation: Conversation, text: str) -> FlowFailed | None:
        """See FlowPlanner.too_long: refuse, before storing, what can never fit."""
        return await self.planner.too_long(conversation, text)

    def preview(self, conversation: Conversation, *, history: list[Message] | None = None,
                summary: Summary | None = None,
                sizer: Sizer | None = None) -> RequestPlan | None:
        """The request the next send would build, from counts known so far (no HTTP); None
        when even the newest message cannot fit. See FlowPlanner.preview."""
        return self.planner.preview(conversation, history=history, summary=summary,
                                    sizer=sizer)

    async def plan_next(self, conversation: Conversation, *, strategy: Strategy | None = None,
                        summary: Summary | None = None, margin: int = 0,
                        history: list[Message] | None = None) -> RequestPlan:
        """The next request exactly as a send would send it. See FlowPlanner.plan_next."""
        return await self.planner.plan_next(conversation, strategy=strategy, summary=summary,
                                            margin=margin, history=history)

    async def probe_server_window(self, model: str) -> int | None:
        """Ask the server (vLLM, llama.cpp, Ollama) for the model's window (see
        ServerKnowledge.probe_window)."""
        return await self.knowledge.probe_window(model)

    # -- entry points --------------------------------------------------------------------

    async def send(self, conversation: str | NewConversation, text: str, *,
                   seen: Seen | None = None,
                   images: list[ImageFile] | None = None,
                   parent_id: str | None | tree.Attach = tree.ACTIVE_LEAF,
                   ) -> AsyncIterator[FlowEvent]:
        """Store ``text`` (with ``images`` attached) and stream the reply. ``conversation`` is
        an id, or a NewConversation stored now, with this first message (yielding
        ConversationCreated first). ``parent_id`` (see :meth:`edit`) puts the message
        elsewhere than after the active path's end; it becomes the active path's end either
        way."""
        if not text.strip():
            yield FlowFailed(None, "nothing to send: the message is empty", "empty", exit_code=2)
            return
        if isinstance(conversation, NewConversation):
            target = conversation.unsaved()
        else:
            unseen = self._unseen(conversation, seen)
            if unseen:
                yield unseen
                return
            target = self.store.get_conversation(conversation)
        refusal = await self.too_long(target, text)
        if refusal is not None:
            yield refusal
            return
        # Stored before the request leaves; a database another program holds locked is
        # waited for without blocking the event loop (tui.core.locked_writes).
        store = self.store
        if isinstance(conversation, NewConversation):
            spec = conversation
            target = await write_when_free(store, lambda: store_new_conversation(store, spec),
                                           patience=SEND_PATIENCE)
            yield ConversationCreated(target)
        conversation_id = target.id
        token_count = (self.counter.count_message(Role.USER, text)
                       + IMAGE_TOKENS * len(images or ()))

        def store_message() -> Message:
            return store.append_message(
                conversation_id, Role.USER, text, token_count=token_count,
                token_encoding=self.counter.encoding_label, parent_id=parent_id)

        attempt = try_write(store, store_message)
        if attempt.done:
            assert attempt.value is not None
            message = attempt.value
        else:
            yield StoreWaiting("your message")
            message = await write_when_free(store, store_message, patience=SEND_PATIENCE)
        if images:
            attached = images
            await write_when_free(store, lambda: store.add_images(message.id, attached),
                                  patience=SEND_PATIENCE)
        yield UserMessageStored(message)
        if not target.title:
            title = title_from_text(text)
            # The request does not wait for its title: stored now, or once another
            # program's lock is free (it stalled the event loop, then failed the send).
            save_now_or_later(store, lambda: store.rename_conversation(conversation_id, title),
                              patience=SIDE_PATIENCE)
            yield TitleUpdated(conversation_id, title)
        async with aclosing(self._respond(conversation_id)) as events:
            async for event in events:
                yield event

    async def edit(self, conversation_id: str, message_id: str, text: str, *,
                   seen: Seen | None = None) -> AsyncIterator[FlowEvent]:
        """Send ``text`` in place of the earlier user message ``message_id``: it becomes
        that message's sibling (a new branch from the same point), the old branch stays;
        the original's attached images go with it."""
        try:
            original = self.store.get_message(message_id)
        except NotFound:
            original = None
        if (original is None or original.conversation_id != conversation_id
                or original.role != Role.USER):
            yield FlowFailed(None, "only a message you wrote in this chat can be edited",
                             "empty", exit_code=2)
            return
        # The images attached to the original go with the edited text (as a re-sent
        # question keeps its screenshot on ChatGPT's page).
        images = self.store.images_for([message_id]).get(message_id)
        async with aclosing(self.send(conversation_id, text, seen=seen, images=images,
                                      parent_id=original.parent_id)) as events:
            async for event in events:
                yield event

    def _unseen(self, conversation_id: str, seen: Seen | None) -> FlowFailed | None:
        """The refusal to send when the conversation has messages the caller has not shown."""
        if seen is None:
            return None
        latest = self.store.latest_message_id(conversation_id)
        if latest is None or latest == seen.last_message_id:
            return None
        if seen.last_message_id is not None and latest < seen.last_message_id:
            return None  # the caller is ahead (it deleted messages): nothing unseen
        return FlowFailed(None, "new messages arrived in this chat from another window; "
                                "read them, then send again", "unseen")

    async def regenerate(self, conversation_id: str, *,
                         seen: Seen | None = None) -> AsyncIterator[FlowEvent]:
        """Answer the last user message again: the new reply is a sibling of the old ones,
        which stay (switch between them with tree.switch_sibling)."""
        async with aclosing(self._answer_again(conversation_id, keep_good=False,
                                               action="regenerate", seen=seen)) as events:
            async for event in events:
                yield event

    async def retry(self, conversation_id: str, *,
                    seen: Seen | None = None) -> AsyncIterator[FlowEvent]:
        """Re-send after a failure, reusing the stored user message."""
        async with aclosing(self._answer_again(conversation_id, keep_good=True,
                                               action="retry", seen=seen)) as events:
            async for event in events:
                yield event

    async def _answer_again(self, conversation_id: str, *, keep_good: bool, action: str,
                            seen: Seen | None = None) -> AsyncIterator[FlowEvent]:
        unseen = self._unseen(conversation_id, seen)
        if unseen:
            yield unseen
            return
        # Written without holding the event loop while another program holds the lock.
        store = self.store
        drop = partial(self._drop_trailing_replies, conversation_id, keep_good=keep_good)
        attempt = try_write(store, drop)
        if attempt.done:
            answerable = attempt.value
        else:
            yield StoreWaiting("the change")
            answerable = await write_when_free(store, drop, patience=SEND_PATIENCE)
        if not answerable:
            yield FlowFailed(None, f"nothing to {action}: there is no user message yet",
                             "empty", exit_code=2)
            return
        async with aclosing(self._respond(conversation_id)) as events:
            async for event in events:
                yield event

    def _drop_trailing_replies(self, conversation_id: str, *, keep_good: bool) -> bool:
        """Clear the way for a new answer to the last user message of the active path.

        With ``keep_good`` (retry) the replies after it that need a retry (failed, cut,
        stopped, empty: ``Message.needs_retry``) are deleted, never sent back. Otherwise
        (regenerate) the path is made to end at the user message, so the new answer becomes
        a sibling of the ones it had, which stay. Returns False when there is no user
        message to answer.
        """
        tail = self.store.load_messages(conversation_id, limit=20)
        while tail and tail[-1].role != Role.USER:
            last = tail.pop()
            if keep_good and not last.needs_retry:
                return True
            if keep_good:
                self.store.delete_message(last.id)
            if not tail:
                tail = self.store.load_messages(conversation_id, limit=20, before_id=last.id)
        if tail and not keep_good:
            tree.end_path_at(self.store, tail[-1].id)
        return bool(tail)

    # -- the reply -----------------------------------------------------------------------

    async def _respond(self, conversation_id: str) -> AsyncIterator[FlowEvent]:
        await self.knowledge.settle_window(self.store.get_conversation(conversation_id).model)
        margin = 0
        overflows = 0
        failed: set[int] = set()
        last_overflow: ContextLengthExceeded | None = None
        numberless = False  # a refusal of this send said no window and no count
        while True:
            conversation = self.store.get_conversation(conversation_id)
            plan: RequestPlan | None = None
            try:
                async with aclosing(self.planner.prepare(conversation, margin)) as prepared:
                    async for item in prepared:
                        if isinstance(item, RequestPlan):
                            plan = item
                        else:
                            yield item
            except ContextOverflow as error:
                refused = self.knowledge.refused_size(conversation.model) or 0
                if numberless and margin and error.tokens < refused:
                    # The shrink asked for less than the newest turn needs: its smallest
                    # form is still smaller than what was refused.
                    margin = max(0, margin - (error.tokens - error.available))
                    continue
                if last_overflow is None:
                    yield FlowFailed(None, str(error), "context")
                else:  # the margins the server's refusals taught leave no room at all
                    yield FlowFailed(None, f"{last_overflow} (gave up after {overflows} "
                                           f"attempts: by the server's count not even the "
                                           f"newest message fits; shorten it or start a new "
                                           f"chat)", "context")
                return
            assert plan is not None
            body_key = fingerprint(plan.messages)
            if body_key in failed:
                yield FlowFailed(None, self.planner.gave_up(conversation, plan), "context")
                return
            overflow: ContextLengthExceeded | None = None
            streamed = stream_reply(self, conversation, plan,
                                    may_retry=conversation.strategy != Strategy.OFF,
                                    flush_interval=FLUSH_INTERVAL)
            async with aclosing(streamed) as events:
                async for event in events:
                    if isinstance(event, Overflow):
                        overflow = event.error
                        continue
                    if isinstance(event, AssistantFinished):
                        before = self.planner.window_info(conversation)
                        if numberless or before.source == "accepted":
                            # Taken: learned before the finish, on which the meter is read.
                            notice = self.planner.learn_accepted(conversation, plan)
                            if notice is not None:
                                yield notice
                            if self.planner.window_info(conversation) != before:
                                event = replace(event, window_changed=True)
                    yield event
            if overflow is None:
                return
            overflows += 1
            last_overflow = overflow
            failed.add(body_key)
            window = self.window_for(conversation)
            self.planner.learn_overflow(conversation, plan, overflow, window)
            if overflows > MAX_OVERFLOW_RETRIES:
                yield FlowFailed(None, f"{overflow} (gave up after {overflows} attempts to "
                                       f"make the request fit)", "context")
                return
            # The server's count is learned (calibration, or the template's part where it
            # tokenizes for us), so the next plan already expects it; on top of that keep a
            # margin that grows with each refusal. A window set by the user (chat, config)
            # still wins over the learned one: plan that much smaller too.
            planned_window = self.window_for(conversation)
            shrink = max(0, planned_window - overflow.limit) if overflow.limit else 0
            planned_margin = margin
            margin += shrink + int(planned_window * OVERFLOW_GROWTH * overflows)
            if not overflow.limit and not overflow.requested:
                numberless = True
                margin = self.planner.margin_after_numberless(conversation, plan,
                                                              planned_margin, margin)
            said = (f"the server counted {overflow.requested:,} tokens"
                    if overflow.requested else "the server refused the request as too long")
            learned = bool(overflow.limit) and overflow.limit != window
            yield ContextNotice(
                "window_learned" if learned else "overflow_retry",
                f"{said} for {conversation.model}'s {format_window(overflow.limit or window)}"
                f"-token window; rebuilding the request smaller and retrying "
                f"({overflows} of {MAX_OVERFLOW_RETRIES})",
            )


async def collect(events: AsyncIterator[FlowEvent]) -> list[FlowEvent]:
    """Drain a flow into a list (tests and simple callers)."""
    return [event async for event in events]


__all__ = [
    "AssistantDelta", "AssistantFinished", "AssistantStarted", "AssistantStreamEnded",
    "ChatFlow", "ContextNotice",
    "ConversationCreated", "FINISH_NOTES", "FlowEvent", "FlowFailed", "MAX_OVERFLOW_RETRIES",
    "NewConversation", "RetryWait", "Seen", "StoreWaiting", "TitleUpdated",
    "UserMessageStored", "collect",
    "finish_note", "request_params",
]
