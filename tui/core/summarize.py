"""Folding old turns into a rolling summary with the model's help.

The context planner decides *which* messages must go; this asks the model to summarize them
(piece by piece when they don't fit one request, each piece folded into the summary so far)
and stores each result as a Summary record pointing at the messages it covers. The messages
themselves are never touched.

Every request fits by construction: it is sized with the same counts as a chat request (the
server's, or calibrated), checked whole before it leaves (exactly, where the server counts
for us) and split further when it would not fit, and its reply has room (max_tokens). A
summary that was cut (finish_reason "length") or is not shorter than what it replaces is
never stored: SummaryRejected says why, and the flow truncates instead for this send.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable

from tui.core.client import ChatClient, ClientError, ContextLengthExceeded, RequestParams
from tui.core.context import Budget
from tui.core.hosts import sanitize_url
from tui.core.locked_writes import SIDE_PATIENCE, save_now_or_later
from tui.core.models import Conversation, Message, Role, Summary
from tui.core.server_tokens import SURELY_FITS, ServerTokenizer
from tui.core.sizing import Sizer
from tui.core.store import Store
from tui.core.summary_plan import (
    SUMMARY_MAX_TOKENS,
    MessagePiece,
    ends_message,
    plan_summary_chunks,
    request_tokens,
    split_message,
    summary_prompt,
)
from tui.core.tokens import REPLY_PRIMING, TokenCounter
from tui.core.usage import record_side_request

__all__ = ["MAX_SUMMARY_CALLS", "SUMMARY_MAX_TOKENS", "SummaryRejected", "summarize_into"]

# Summary requests one send may make; more means the backlog is done over the next sends.
MAX_SUMMARY_CALLS = 6
# Pieces one send may cut a backlog into before giving up: halving, a piece too big for
# any request reaches the smallest size in a few steps; this only stops a cut that does
# not shrink.
MAX_SPLITS = 256

# Learns one request's (local count, server count); True when the count says the server cut
# the prompt to fit its window (ServerKnowledge.learn_usage).
Learn = Callable[[int, int], bool]


class SummaryRejected(ClientError):
    """The model's summary can't be used (cut, or no shorter than what it replaces)."""


async def summarize_into(store: Store, client: ChatClient, counter: TokenCounter,
                         conversation: Conversation, messages: list[Message],
                         previous: Summary | None, *, model: str, budget: Budget,
                         sizer: Sizer | None = None, tokenizer: ServerTokenizer | None = None,
                         learn: Learn | None = None,
                         max_calls: int = MAX_SUMMARY_CALLS) -> Summary:
    """Summarize ``messages`` (oldest first) on top of ``previous``; return the newest summary.

    ``budget`` is the summary request's own (summary_plan.summary_budget): its
    ``reserved_output`` is the reply's max_tokens. Raises ClientError (SummaryRejected among
    them) when a piece cannot be summarized; pieces already stored stay, they are correct.
    When the call budget runs out first, the summary covers what was done so far. A
    summary of a prompt the server cut (``learn`` says so) saw only part of its messages and
    is not stored.
    """
    sizer = sizer or Sizer(counter)
    exact = tokenizer if tokenizer is not None and tokenizer.supported else None
    current = previous
    first_id = previous.first_message_id if previous else messages[0].id
    # Off the event loop: the whole history is read, and every message to fold is counted.
    stored_ids, queue = await asyncio.to_thread(lambda: (
        [message.id for message in store.load_messages(conversation.id)],
        plan_summary_chunks(messages, budget, counter, previous=previous, sizer=sizer)))
    calls = 0
    stored = previous
    retried: set[int] = set()  # chunks already asked twice
    splits = 0
    while queue and calls < max_calls:
        chunk = queue.pop(0)
        prompt = summary_prompt(chunk, current, window=budget.window)
        # The counting (a chunk is up to the summary's window of text) runs in a thread,
        # as above.
        if exact is not None:
            await exact.count_texts([m["content"] for m in prompt])
            quick = exact.estimate_request(prompt)
            if quick is not None and quick <= budget.available * SURELY_FITS:
                size = quick  # far from the limit: no need to ask the server
            else:
                size = (await exact.count_request(prompt)
                        or await asyncio.to_thread(request_tokens, prompt, sizer))
        else:
            size = await asyncio.to_thread(request_tokens, prompt, sizer)
        if size > budget.available:
            smaller = await asyncio.to_thread(_split, chunk, sizer, counter)
            if smaller is not None:
                splits += 1
                if splits > MAX_SPLITS:
                    raise SummaryRejected("the messages could not be cut small enough to "
                                          "summarize")
                queue[:0] = smaller
                continue
        calls += 1
        local = await asyncio.to_thread(lambda prompt=prompt: REPLY_PRIMING + sum(
            counter.count_message(m["role"], m["content"]) for m in prompt))
        try:
            done = await client.complete_full(
                model, prompt, RequestParams(max_output_tokens=budget.reserved_output))
        except ContextLengthExceeded as error:
            if learn is not None and error.requested:
                learn(local, error.requested)
            raise
        prompt_tokens = done.usage.prompt_tokens if done.usage is not None else 0
        cut = learn is not None and prompt_tokens > 0 and learn(local, prompt_tokens)
        save_now_or_later(store, lambda done=done: record_side_request(
            store, conversation.id, "summary", model=model,
            server=sanitize_url(client.base_url), usage=done.usage), patience=SIDE_PATIENCE)
        text = done.text.strip()
        try:
            if cut:
                raise SummaryRejected(f"the server counted {prompt_tokens:,} prompt tokens, "
                                      "its whole window: it cut the summary request")
            await asyncio.to_thread(_check, text, done.finish_reason, chunk, current, counter)
        except SummaryRejected:
            if id(chunk) in retried or calls >= max_calls:
                raise
            retried.add(id(chunk))  # small models misbehave now and then: ask once more
            queue.insert(0, chunk)
            continue
        last = chunk[-1]
        draft = Summary(id="", conversation_id=conversation.id, content=text,
                        first_message_id=first_id, last_message_id=last.id,
                        covered_count=0)
        if not ends_message(last):
            current = draft  # mid-message: fold the next part in before storing
            continue
        # Every stored message up to the chunk's end, errors included: what the block hides.
        covered = bisect_right(stored_ids, last.id)
        current = stored = await asyncio.to_thread(
            store.add_summary, conversation.id, text,
            first_message_id=first_id,
            last_message_id=last.id,
            covered_count=covered,
            token_count=counter.count_message(Role.SYSTEM, text),
            model=model,
            previous_summary_id=stored.id if stored else None,
        )
    if stored is None or stored is previous:
        raise SummaryRejected("no summary could be made within "
                              f"{max_calls} requests")
    return stored


def _split(chunk: list[Message], sizer: Sizer, counter: TokenCounter) -> list[list[Message]] | None:
    """``chunk`` in two smaller chunks, or None when it can't get smaller."""
    if len(chunk) > 1:
        half = len(chunk) // 2
        return [chunk[:half], chunk[half:]]
    (message,) = chunk
    # A piece is measured by its own text: the sizer knows its message's count by id.
    units = (sizer.text_units(str(message.role), message.content)
             if isinstance(message, MessagePiece) else sizer.units(message))
    if units < 64:
        return None
    parts = split_message(_whole(message), units // 2, sizer, counter)
    if len(parts) < 2:
        return None
    if not ends_message(message):  # parts of a middle piece: none of them ends the message
        for part in parts:
            part.parts = len(parts) + 1
    return [[part] for part in parts]


def _whole(message: Message) -> Message:
    """A piece is split again as text (its part note included); the id stays."""
    return Message(**{k: getattr(message, k) for k in Message.__dataclass_fields__})


def _check(text: str, finish_reason: str | None, chunk: list[Message],
           previous: Summary | None, counter: TokenCounter) -> None:
    if finish_reason == "length":
        raise SummaryRejected("the summary was cut at its length limit; it is not stored")
    if not text:
        raise SummaryRejected("the model returned an empty summary")
    replaced = sum(counter.count_text(m.content) for m in chunk)
    if previous is not None:
        replaced += counter.count_text(previous.content)
    if counter.count_text(text) >= replaced:
        raise SummaryRejected("the summary was no shorter than the messages it replaces; "
                              "it is not stored")


