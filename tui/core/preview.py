"""The next request, shown before it is sent: each message's tokens and fate.

:func:`preview_request` plans exactly as a send does (ChatFlow.plan_next: the server's
counts where it gives them, the whole request counted) but sends nothing and stores nothing
but counts. Front ends render a ContextPreview: ``gpt-tui context ID`` prints it, the app
will show it in a view.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from tui.core.chat import ChatFlow
from tui.core.context import (
    ContextOverflow,
    RequestPlan,
    budget_for,
    is_sendable,
    with_next_turn,
)
from tui.core.models import Conversation, Message

# sent: in the request; pinned: in the request although its turn is not (pinned by the
# user); summarized: replaced by the summary (already, or by the summary this send makes
# first); dropped: not sent (truncated); skipped: errors and empty replies, never sent.
Fate = Literal["sent", "pinned", "summarized", "dropped", "skipped"]


@dataclass
class PreviewItem:
    message_id: str
    role: str
    tokens: int  # the message's share of the request, as the server counts
    fate: Fate
    content: str


@dataclass
class ContextPreview:
    conversation_id: str
    model: str
    strategy: str
    items: list[PreviewItem]
    # The request's messages exactly as the next send would send them (when it does not
    # summarize first: see will_summarize).
    messages: list[dict[str, str]]
    summary: str | None  # the summary sent in place of older messages
    tokens: int  # the request, as the server counts (exact when ``exact``)
    full_tokens: int  # everything, if nothing were summarized or dropped
    available: int  # the prompt budget
    reply_reserve: int
    window: int
    window_source: str  # "conversation", "config", "server", "error", "table", "guess"
    exact: bool  # counts come from the server's tokenizer
    will_summarize: bool  # the send will summarize the "summarized" messages not yet covered
    error: str | None = None  # why no request can be made (too long), else None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _fates(history: list[Message], plan: RequestPlan) -> dict[str, Fate]:
    fates: dict[str, Fate] = {}
    sent = set(plan.sent_ids)
    pinned = set(plan.pinned_ids)
    folding = {m.id for m in plan.to_summarize}
    covered_to = plan.summary.last_message_id if plan.summary else ""
    for m in history:
        if not is_sendable(m):
            fates[m.id] = "skipped"
        elif m.id in pinned:
            fates[m.id] = "pinned"
        elif m.id in folding or (covered_to and m.id <= covered_to):
            fates[m.id] = "summarized"
        elif m.id in sent:
            fates[m.id] = "sent"
        else:
            fates[m.id] = "dropped"
    return fates


async def preview_request(flow: ChatFlow, conversation: Conversation) -> ContextPreview:
    """What the next send of ``conversation`` would send, without sending it. Its counts
    are what it shows, so a deferred encoding loads first, however short the chat."""
    await flow.counter.load_if_deferred()
    await flow.probe_server_window(conversation.model)
    info = flow.window_info(conversation)
    budget = budget_for(info.size, conversation.max_output_tokens)
    # The store reads run in a thread: a long chat, or a database another instance holds
    # locked, never stalls a front end's event loop (the app awaits this in a worker).
    store = flow.store
    history, summary = await asyncio.to_thread(
        lambda: (store.load_messages(conversation.id), store.latest_summary(conversation.id)))
    common = dict(conversation_id=conversation.id, model=conversation.model,
                  strategy=str(conversation.strategy), available=budget.available,
                  reply_reserve=budget.reserved_output, window=info.size,
                  window_source=info.source)
    try:
        try:
            plan = await flow.plan_next(conversation, summary=summary, history=history)
        except ContextOverflow:
            # The last reply alone is too big to resend: the next send (a message of the
            # user's after it) summarizes or drops it. Its stand-in is not shown.
            after_reply = with_next_turn(history, flow.counter)
            if after_reply is None:
                raise
            plan = await flow.plan_next(conversation, summary=summary, history=after_reply)
            plan = replace(plan, messages=plan.messages[:-1])
    except ContextOverflow as error:
        sizer = flow.knowledge.sizer(conversation)
        items = [PreviewItem(m.id, str(m.role), sizer.tokens(sizer.units(m)) if is_sendable(m)
                             else 0, "dropped" if is_sendable(m) else "skipped", m.content)
                 for m in history]
        return ContextPreview(items=items, messages=[], summary=None, tokens=error.tokens,
                              full_tokens=error.tokens, exact=sizer.exact,
                              will_summarize=False, error=str(error), **common)
    sizer = flow.knowledge.sizer(conversation)
    fates = _fates(history, plan)
    items = []
    for m in history:
        tokens = sizer.units(m) if is_sendable(m) else 0
        if sizer.exact:
            items.append(PreviewItem(m.id, str(m.role), tokens, fates[m.id], m.content))
        else:  # local units: scale like the request (without its fixed part)
            share = round(tokens * sizer.calibration.ratio) if sizer.calibration.learned \
                else tokens
            items.append(PreviewItem(m.id, str(m.role), share, fates[m.id], m.content))
    return ContextPreview(
        items=items, messages=plan.messages,
        summary=plan.summary.content if plan.summary else None,
        tokens=plan.tokens, full_tokens=plan.full_tokens, exact=sizer.exact,
        will_summarize=bool(plan.to_summarize), **common)
