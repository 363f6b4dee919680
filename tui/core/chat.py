"""The chat flow: store the user's text, fit the request to the window, stream, store the reply.

It is the one place that ties the store, the context planner and the model client together,
so the app and ``gpt-tui ask`` behave identically and the whole flow is testable headless.
Callers iterate the events and render them; they never touch the database for a reply.

Durability rules: the user's message is stored before the request leaves; the assistant's
message is created as ``streaming`` and its content flushed at most every ``FLUSH_INTERVAL``
seconds, so a crash or ``kill -9`` leaves the partial reply on disk; cancelling the iterating
task stores the partial reply as ``interrupted`` and re-raises.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import AsyncIterator, Literal

from tui.core.client import (
    AuthError,
    BadRequest,
    ChatClient,
    ClientError,
    ConnectFailed,
    ContextLengthExceeded,
    Finished,
    ModelNotFound,
    RateLimited,
    RequestParams,
    RequestTimeout,
    Retrying,
    ServerError,
    StreamCut,
    TextDelta,
    UsageReport,
)
from tui.core.config import Settings
from tui.core.hosts import is_openai_host
from tui.core.context import ContextOverflow, RequestPlan, budget_for, plan_request
from tui.core.models import Conversation, Message, MessageStatus, Role, Strategy, Summary
from tui.core.store import Store
from tui.core.summarize import summarize_into
from tui.core.titles import title_from_text
from tui.core.tokens import TokenCounter, update_correction
from tui.core.windows import context_window_for

FLUSH_INTERVAL = 0.5


@dataclass
class UserMessageStored:
    message: Message


@dataclass
class ContextNotice:
    kind: Literal["summarized", "truncated", "summary_failed", "window_learned"]
    text: str
    summary: Summary | None = None
    dropped_count: int = 0


@dataclass
class AssistantStarted:
    message: Message


@dataclass
class AssistantDelta:
    message_id: str
    text: str


@dataclass
class RetryWait:
    attempt: int
    delay: float
    reason: str


@dataclass
class AssistantFinished:
    message: Message


@dataclass
class TitleUpdated:
    conversation_id: str
    title: str


@dataclass
class FlowFailed:
    message: Message | None
    error: str
    kind: str
    exit_code: int = 1


FlowEvent = (UserMessageStored | ContextNotice | AssistantStarted | AssistantDelta | RetryWait
             | AssistantFinished | TitleUpdated | FlowFailed)

# ClientError subclass -> FlowFailed.kind, so front ends can say what to do.
_ERROR_KINDS: tuple[tuple[type[ClientError], str], ...] = (
    (AuthError, "auth"),
    (ModelNotFound, "model"),
    (RateLimited, "rate_limit"),
    (ServerError, "server"),
    (ConnectFailed, "connect"),
    (RequestTimeout, "timeout"),
    (StreamCut, "stream_cut"),
    (ContextLengthExceeded, "context"),
    (BadRequest, "bad_request"),
)

FINISH_NOTES = {
    "length": "the reply was cut at the output token limit",
    "content_filter": "the server stopped the reply (content filter)",
}


def _kind_of(error: ClientError) -> str:
    return next((kind for cls, kind in _ERROR_KINDS if isinstance(error, cls)), "error")


class ChatFlow:
    """Runs conversations against one client and one store."""

    def __init__(self, store: Store, client: ChatClient, counter: TokenCounter,
                 settings: Settings) -> None:
        self.store = store
        self.client = client
        self.counter = counter
        self.settings = settings
        # (base URL, model) -> the probe of the server's window, asked once a session.
        self._probes: dict[tuple[str, str], asyncio.Future[int | None]] = {}

    # -- conversations -------------------------------------------------------------------

    def new_conversation(self, *, model: str | None = None,
                         system_prompt: str | None = None) -> Conversation:
        return self.store.create_conversation(
            model=model or self.settings.model,
            system_prompt=system_prompt or "",
            strategy=self.settings.strategy,
        )

    def window_for(self, conversation: Conversation) -> int:
        return context_window_for(
            conversation.model,
            overrides=self.settings.context_windows,
            learned=self.store.get_model_window(conversation.model),
            conversation=conversation.context_window,
        )

    async def probe_server_window(self, model: str) -> int | None:
        """Ask the server (vLLM, llama.cpp) for the model's window, once per session.

        OpenAI's own models are in the built-in table, so api.openai.com is not asked. What
        the server says is stored like a window learned from an error. Concurrent callers
        share one probe, and a caller that is cancelled does not cancel it for the others.
        """
        if is_openai_host(self.client.base_url):
            return None
        key = (self.client.base_url, model)
        probe = self._probes.get(key)
        if probe is None:
            probe = self._probes[key] = asyncio.ensure_future(self._probe(model))
        return await asyncio.shield(probe)

    async def _probe(self, model: str) -> int | None:
        window = await self.client.server_context_window(model)
        if window:
            self.store.set_model_window(model, window, source="server")
        return window

    # -- entry points --------------------------------------------------------------------

    async def send(self, conversation_id: str, text: str) -> AsyncIterator[FlowEvent]:
        if not text.strip():
            yield FlowFailed(None, "nothing to send: the message is empty", "empty", exit_code=2)
            return
        conversation = self.store.get_conversation(conversation_id)
        message = self.store.append_message(
            conversation_id, Role.USER, text,
            token_count=self.counter.count_message(Role.USER, text),
            token_encoding=self.counter.encoding_label,
        )
        yield UserMessageStored(message)
        if not conversation.title:
            title = title_from_text(text)
            self.store.rename_conversation(conversation_id, title)
            yield TitleUpdated(conversation_id, title)
        async with aclosing(self._respond(conversation_id)) as events:
            async for event in events:
                yield event

    async def regenerate(self, conversation_id: str) -> AsyncIterator[FlowEvent]:
        """Drop the reply to the last user message and ask again."""
        async with aclosing(self._answer_again(conversation_id, keep_good=False,
                                               action="regenerate")) as events:
            async for event in events:
                yield event

    async def retry(self, conversation_id: str) -> AsyncIterator[FlowEvent]:
        """Re-send after a failure, reusing the stored user message."""
        async with aclosing(self._answer_again(conversation_id, keep_good=True,
                                               action="retry")) as events:
            async for event in events:
                yield event

    async def _answer_again(self, conversation_id: str, *, keep_good: bool,
                            action: str) -> AsyncIterator[FlowEvent]:
        if not self._drop_trailing_replies(conversation_id, keep_good=keep_good):
            yield FlowFailed(None, f"nothing to {action}: there is no user message yet",
                             "empty", exit_code=2)
            return
        async with aclosing(self._respond(conversation_id)) as events:
            async for event in events:
                yield event

    def _drop_trailing_replies(self, conversation_id: str, *, keep_good: bool) -> bool:
        """Delete the assistant messages after the last user message.

        With ``keep_good`` only the ones that need a retry go (failed, cut, stopped, empty:
        ``Message.needs_retry``); otherwise every reply does (regenerate). Returns False when there is no user message to answer.
        """
        tail = self.store.load_messages(conversation_id, limit=20)
        while tail and tail[-1].role != Role.USER:
            last = tail.pop()
            if keep_good and not last.needs_retry:
                return True
            self.store.delete_message(last.id)
            if not tail:
                tail = self.store.load_messages(conversation_id, limit=20, before_id=last.id)
        return bool(tail)

    def preview(self, conversation: Conversation, *, history: list[Message] | None = None,
                summary: Summary | None = None) -> RequestPlan | None:
        """The request the next send would build, as things stand (no summarizing yet).

        Front ends use it to mark which stored messages the model will not see; None when
        even the newest message cannot fit (the send itself explains that). A caller that
        already loaded the history and latest summary passes them to spare a second load.
        """
        try:
            return self._plan(conversation, summary=summary, history=history)
        except ContextOverflow:
            return None

    # -- the reply -----------------------------------------------------------------------

    def _plan(self, conversation: Conversation, strategy: Strategy | None = None,
              summary: Summary | None = None, *, use_summary: bool = True,
              history: list[Message] | None = None) -> RequestPlan:
        if history is None:
            history = self.store.load_messages(conversation.id)
        if use_summary and summary is None:
            summary = self.store.latest_summary(conversation.id)
        budget = budget_for(self.window_for(conversation), conversation.max_output_tokens)
        plan = plan_request(
            system_prompt=conversation.system_prompt,
            history=history,
            summary=summary,
            budget=budget,
            strategy=strategy or conversation.strategy,
            counter=self.counter,
            correction=conversation.token_correction,
        )
        for message_id, count in getattr(plan, "recounted", {}).items():
            self.store.update_message(message_id, token_count=count,
                                      token_encoding=self.counter.encoding_label)
        return plan

    async def _prepare(self, conversation: Conversation) -> AsyncIterator[FlowEvent | RequestPlan]:
        """Plan the request, summarizing first when the strategy asks for it."""
        plan = self._plan(conversation)
        if plan.to_summarize:
            previous = plan.summary
            model = self.settings.summary_model or conversation.model
            try:
                summary = await summarize_into(
                    self.store, self.client, self.counter, conversation,
                    plan.to_summarize, previous, model=model,
                    budget=budget_for(self.window_for(conversation), None),
                )
            except ClientError as error:
                yield ContextNotice(
                    "summary_failed",
                    f"could not summarize earlier messages ({error}); "
                    f"dropping the oldest ones instead",
                )
                plan = self._plan(conversation, Strategy.TRUNCATE)
            else:
                yield ContextNotice(
                    "summarized",
                    f"Summarized {summary.covered_count} earlier messages into "
                    f"{summary.token_count or 0} tokens",
                    summary=summary,
                )
                plan = self._plan(conversation, summary=summary)
        if plan.truncated:
            covered = plan.summary.covered_count if plan.summary else 0
            dropped = max(len(plan.dropped_ids) - covered, 0) or len(plan.dropped_ids)
            yield ContextNotice(
                "truncated",
                f"{dropped} earlier messages were not sent to fit the "
                f"{self.window_for(conversation):,}-token window",
                dropped_count=dropped,
            )
        yield plan

    async def _respond(self, conversation_id: str) -> AsyncIterator[FlowEvent]:
        learned_once = False
        await self.probe_server_window(self.store.get_conversation(conversation_id).model)
        while True:
            conversation = self.store.get_conversation(conversation_id)
            plan: RequestPlan | None = None
            try:
                async with aclosing(self._prepare(conversation)) as prepared:
                    async for item in prepared:
                        if isinstance(item, RequestPlan):
                            plan = item
                        else:
                            yield item
            except ContextOverflow as error:
                yield FlowFailed(None, str(error), "context")
                return
            assert plan is not None
            retry_with_limit: int | None = None
            streamed = self._stream(conversation, plan, may_learn=not learned_once)
            async with aclosing(streamed) as events:
                async for event in events:
                    if isinstance(event, _LearnedWindow):
                        retry_with_limit = event.limit
                    else:
                        yield event
            if retry_with_limit is None:
                return
            learned_once = True
            yield ContextNotice(
                "window_learned",
                f"the server's window for {conversation.model} is {retry_with_limit:,} tokens; "
                f"rebuilding the request to fit and retrying",
            )

    async def _stream(self, conversation: Conversation, plan: RequestPlan, *,
                      may_learn: bool) -> AsyncIterator[FlowEvent | _LearnedWindow]:
        assistant = self.store.append_message(
            conversation.id, Role.ASSISTANT, "", status=MessageStatus.STREAMING,
            model=conversation.model,
        )
        yield AssistantStarted(assistant)
        parts: list[str] = []
        flushed_at = time.monotonic()
        finish_reason: str | None = None
        usage: UsageReport | None = None
        params = RequestParams(
            temperature=conversation.temperature,
            top_p=conversation.top_p,
            max_output_tokens=conversation.max_output_tokens,
        )
        outcome = "interrupted"
        try:
            stream = self.client.stream_chat(conversation.model, plan.messages, params)
            async with aclosing(stream) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        parts.append(event.text)
                        now = time.monotonic()
                        if now - flushed_at >= FLUSH_INTERVAL:
                            self.store.update_message(assistant.id, content="".join(parts))
                            flushed_at = now
                        yield AssistantDelta(assistant.id, event.text)
                    elif isinstance(event, Finished):
                        finish_reason = event.reason
                    elif isinstance(event, UsageReport):
                        usage = event
                    elif isinstance(event, Retrying):
                        yield RetryWait(event.attempt, event.delay, event.reason)
            outcome = "complete"
        except ContextLengthExceeded as error:
            outcome = "failed"
            if may_learn and not parts and error.limit:
                self.store.delete_message(assistant.id)
                self.store.set_model_window(conversation.model, error.limit, source="server error")
                outcome = "learned"
                yield _LearnedWindow(error.limit)
                return
            yield self._fail(assistant, parts, error)
            return
        except StreamCut as error:
            outcome = "failed"
            yield self._fail(assistant, parts, error)
            return
        except ClientError as error:
            outcome = "failed"
            yield self._fail(assistant, parts, error)
            return
        finally:
            if outcome == "interrupted":
                # Cancelled (Esc, Ctrl-C) or the consumer stopped iterating: keep what arrived.
                self.store.update_message(
                    assistant.id, content="".join(parts), status=MessageStatus.INTERRUPTED,
                    token_count=self.counter.count_message(Role.ASSISTANT, "".join(parts)),
                    token_encoding=self.counter.encoding_label,
                )
        content = "".join(parts)
        fields: dict[str, object] = {
            "content": content,
            "status": MessageStatus.COMPLETE,
            "finish_reason": finish_reason,
            "token_count": self.counter.count_message(Role.ASSISTANT, content),
            "token_encoding": self.counter.encoding_label,
        }
        if usage is not None:
            fields["prompt_tokens"] = usage.prompt_tokens
            fields["completion_tokens"] = usage.completion_tokens
            local = getattr(plan, "local_tokens", plan.tokens)
            correction = update_correction(conversation.token_correction, local,
                                           usage.prompt_tokens)
            self.store.update_conversation(conversation.id, token_correction=correction)
        self.store.update_message(assistant.id, **fields)
        yield AssistantFinished(self.store.get_message(assistant.id))
        if self.settings.auto_title and self._is_first_exchange(conversation.id):
            title = await self._model_title(conversation, content)
            if title:
                self.store.rename_conversation(conversation.id, title)
                yield TitleUpdated(conversation.id, title)

    def _fail(self, assistant: Message, parts: list[str], error: ClientError) -> FlowFailed:
        """Store what arrived; the error text goes in `error`, never in the content."""
        content = "".join(parts)
        status = MessageStatus.INTERRUPTED if content else MessageStatus.ERROR
        self.store.update_message(
            assistant.id, content=content, status=status, error=str(error),
            token_count=self.counter.count_message(Role.ASSISTANT, content),
            token_encoding=self.counter.encoding_label,
        )
        return FlowFailed(self.store.get_message(assistant.id), str(error), _kind_of(error),
                          exit_code=getattr(error, "exit_code", 1))

    def _is_first_exchange(self, conversation_id: str) -> bool:
        return self.store.count_messages(conversation_id) <= 2

    async def _model_title(self, conversation: Conversation, reply: str) -> str | None:
        """A short model-written title; any failure keeps the one from the first message."""
        first = self.store.load_messages(conversation.id, limit=2)
        prompt = [
            {"role": "system", "content": "Write a title of at most six words for this "
                                          "conversation. Reply with the title only."},
            {"role": "user", "content": (first[0].content if first else "")[:2000]},
            {"role": "assistant", "content": reply[:2000]},
        ]
        try:
            text = await self.client.complete(conversation.model, prompt,
                                              RequestParams(max_output_tokens=24))
        except ClientError:
            return None
        title = title_from_text(text.strip().strip('"').strip("'"))
        return title or None


@dataclass
class _LearnedWindow:
    """Internal: the server taught us a smaller window; rebuild and retry once."""

    limit: int


async def collect(events: AsyncIterator[FlowEvent]) -> list[FlowEvent]:
    """Drain a flow into a list (tests and simple callers)."""
    return [event async for event in events]


__all__ = [
    "AssistantDelta", "AssistantFinished", "AssistantStarted", "ChatFlow", "ContextNotice",
    "FINISH_NOTES", "FlowEvent", "FlowFailed", "RetryWait", "TitleUpdated",
    "UserMessageStored", "collect",
]
