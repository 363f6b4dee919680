"""One reply of the chat flow: streamed from the client into the store as it arrives.

The assistant's message is stored as ``streaming`` before the first token and its content
flushed every ``flush_interval`` seconds (the flow passes ``chat.FLUSH_INTERVAL``), so a crash
leaves the partial reply on disk; a cancel stores it as ``interrupted``, a failure as
``interrupted`` or ``error`` with the error beside it, never in the content. A refusal as too
long before any text is handed back to the flow (:class:`Overflow`), which plans smaller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, AsyncIterator

from tui.core.attachments import with_image_parts
from tui.core.client import (
    ClientError,
    ContextLengthExceeded,
    Finished,
    RequestParams,
    Retrying,
    TextDelta,
    UsageReport,
)
from tui.core.context import RequestPlan
from tui.core.flow_events import (
    AssistantDelta,
    AssistantFinished,
    AssistantStarted,
    AssistantStreamEnded,
    FlowEvent,
    FlowFailed,
    RetryWait,
    StoreWaiting,
    TitleUpdated,
    cut_note,
    finish_note,
    kind_of,
)
from tui.core.hosts import sanitize_url
from tui.core.locked_writes import (
    save_now_or_later,
    save_unless_locked,
    try_write,
    write_when_free,
)
from tui.core.model_titles import is_first_exchange, model_title
from tui.core.models import Conversation, Message, MessageStatus, Role
from tui.core.store import Store
from tui.core.store_errors import DatabaseLocked

if TYPE_CHECKING:
    from tui.core.chat import ChatFlow

log = logging.getLogger(__name__)

START_PATIENCE = 5.0
"""Seconds the reply's message waits to be created while the database is locked (as the
connection's busy timeout would, the app running meanwhile), before the request leaves."""
FINAL_WRITE_PATIENCE = 60.0
"""Seconds a finished reply waits to be stored while another program holds the database's
write lock (the app keeps running meanwhile; see tui.core.locked_writes)."""
TITLE_PATIENCE = 5.0
"""Seconds the model's title waits for a lock another program holds (the connection's busy
timeout, which it waited on the event loop before); ``ask`` waits for it before it exits."""


@dataclass
class Overflow:
    """The server refused the request as too long before any reply arrived."""

    error: ContextLengthExceeded


def request_params(conversation: Conversation) -> RequestParams:
    """What the client sends with a conversation's replies, from its stored settings."""
    return RequestParams(temperature=conversation.temperature, top_p=conversation.top_p,
                         max_output_tokens=conversation.max_output_tokens,
                         json_output=conversation.json_output,
                         extra=dict(conversation.extra_params))


async def stream_reply(flow: ChatFlow, conversation: Conversation, plan: RequestPlan, *,
                       may_retry: bool,
                       flush_interval: float) -> AsyncIterator[FlowEvent | Overflow]:
    """Send ``plan``, store the reply as it streams, then title a first exchange."""
    store, counter = flow.store, flow.counter
    assistant = await write_when_free(store, lambda: store.append_message(
        conversation.id, Role.ASSISTANT, "", status=MessageStatus.STREAMING,
        model=conversation.model,
    ), patience=START_PATIENCE)
    yield AssistantStarted(assistant)
    parts: list[str] = []
    flushed_at = time.monotonic()
    finish_reason: str | None = None
    usage: UsageReport | None = None
    params = request_params(conversation)
    outcome = "interrupted"
    started = time.monotonic()
    first_token: float | None = None
    try:
        # Images stored with the messages sent go as image parts (issue 12).
        messages = with_image_parts(plan.messages, plan.sent_ids,
                                    store.images_for(plan.sent_ids))
        stream = flow.client.stream_chat(conversation.model, messages, params)
        async with aclosing(stream) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                    now = time.monotonic()
                    if first_token is None:
                        first_token = now
                    if now - flushed_at >= flush_interval:
                        # Skipped while another program holds the write lock: waiting
                        # for it here would freeze the app (tui.core.locked_writes).
                        text = "".join(parts)
                        save_unless_locked(
                            store, lambda text=text: store.update_message(assistant.id,
                                                                          content=text))
                        flushed_at = now
                    yield AssistantDelta(assistant.id, event.text)
                elif isinstance(event, Finished):
                    finish_reason = event.reason
                elif isinstance(event, UsageReport):
                    usage = event
                elif isinstance(event, Retrying):
                    # The clock starts again with the attempt after the wait.
                    started = time.monotonic() + event.delay
                    yield RetryWait(event.attempt, event.delay, event.reason)
        if parts:  # before "complete": stopped while the text is shown, it is stored
            yield AssistantStreamEnded(assistant.id)  # as interrupted, as it arrived
        outcome = "complete"
    except ContextLengthExceeded as error:
        outcome = "failed"
        if may_retry and not parts:
            # Its retry waits for the lock to store its own row anyway: not on the loop.
            await write_when_free(store, lambda: store.delete_message(assistant.id),
                                  patience=START_PATIENCE)
            outcome = "retry"
            yield Overflow(error)
            return
        yield failed_reply(flow, assistant, parts, error)
        return
    except ClientError as error:
        outcome = "failed"
        yield failed_reply(flow, assistant, parts, error)
        return
    finally:
        if outcome == "interrupted":
            # Cancelled (Esc, Ctrl-C) or the consumer stopped iterating: keep what arrived
            # (once the lock is free, if another program holds it: a cancel must not wait).
            content = "".join(parts)
            interrupted: dict[str, object] = {
                "content": content, "status": MessageStatus.INTERRUPTED,
                "token_count": counter.count_message(Role.ASSISTANT, content),
                "token_encoding": counter.encoding_label,
            }
            save_now_or_later(store, lambda: store.update_message(assistant.id, **interrupted),
                              patience=FINAL_WRITE_PATIENCE)
    content = "".join(parts)
    fields: dict[str, object] = {
        "content": content,
        "status": MessageStatus.COMPLETE,
        "finish_reason": finish_reason,
        "token_count": counter.count_message(Role.ASSISTANT, content),
        "token_encoding": counter.encoding_label,
        "duration_ms": round((time.monotonic() - started) * 1000),
        "first_token_ms": (None if first_token is None
                           else round((first_token - started) * 1000)),
        "server": sanitize_url(flow.client.base_url),
    }
    if usage is not None:
        fields["prompt_tokens"] = usage.prompt_tokens
        fields["completion_tokens"] = usage.completion_tokens
        fields["cached_tokens"] = usage.cached_tokens
    # The reply first: it waits for a lock another program holds, the loop running on.
    def store_reply() -> None:
        store.update_message(assistant.id, **fields)

    if not try_write(store, store_reply).done:
        yield StoreWaiting("the reply")
        try:
            await write_when_free(store, store_reply, patience=FINAL_WRITE_PATIENCE)
        except asyncio.CancelledError:  # Esc meanwhile: the whole reply came, and is kept
            save_now_or_later(store, store_reply, patience=FINAL_WRITE_PATIENCE)
            raise
    window = flow.window_for(conversation)
    cut = False
    if usage is not None:
        cut = flow.knowledge.learn_usage(conversation.model, plan.local_tokens,
                                         usage.prompt_tokens, window, exact=plan.local_exact)
        ratio = flow.knowledge.calibration(conversation, conversation.model).ratio
        save_now_or_later(store, lambda: store.update_conversation(
            conversation.id, token_correction=ratio), patience=FINAL_WRITE_PATIENCE)
    finished = store.get_message(assistant.id)
    note = (cut_note(usage.prompt_tokens, window) if cut and usage is not None else
            finish_note(finished, max_output_tokens=conversation.max_output_tokens,
                        window=window))
    yield AssistantFinished(finished, note)
    if flow.settings.auto_title and is_first_exchange(store, conversation.id):
        # The title before asking: one the user sets meanwhile (here or in another
        # window) is theirs, and the model's answer must not replace it.
        before = store.get_conversation(conversation.id).title
        title = await model_title(flow.client, counter, flow.knowledge, store,
                                  conversation, content)
        if title and await _stored_title(store, conversation.id, title, before):
            yield TitleUpdated(conversation.id, title)


async def _stored_title(store: Store, conversation_id: str, title: str, before: str) -> bool:
    """Store the model's title unless the user set one meanwhile; waits for a lock another
    program holds without blocking the event loop (``TITLE_PATIENCE`` at most, then the
    title from the first message stays)."""
    try:
        return await write_when_free(
            store, lambda: store.replace_title(conversation_id, title, expected=before),
            patience=TITLE_PATIENCE)
    except DatabaseLocked:
        log.warning("the model's title was not stored: the database stayed locked",
                    exc_info=True)
        return False


def failed_reply(flow: ChatFlow, assistant: Message, parts: list[str],
                 error: ClientError) -> FlowFailed:
    """Store what arrived; the error text goes in `error`, never in the content."""
    log.warning("the reply failed: %s", error, exc_info=error)
    content = "".join(parts)
    status = MessageStatus.INTERRUPTED if content else MessageStatus.ERROR
    fields: dict[str, object] = {
        "content": content, "status": status, "error": str(error),
        "token_count": flow.counter.count_message(Role.ASSISTANT, content),
        "token_encoding": flow.counter.encoding_label,
    }
    store = flow.store
    saved = save_now_or_later(store, lambda: store.update_message(assistant.id, **fields),
                              patience=FINAL_WRITE_PATIENCE)
    message = store.get_message(assistant.id)
    if not saved:  # stored once the lock is free: shown as it will be
        message = replace(message, **fields)  # type: ignore[arg-type]
    return FlowFailed(message, str(error), kind_of(error),
                      exit_code=getattr(error, "exit_code", 1))
