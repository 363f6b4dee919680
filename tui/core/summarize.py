"""Folding old turns into a rolling summary with the model's help.

The context planner decides *which* messages must go; this asks the model to summarize them
(piece by piece when they don't fit one request, each piece folded into the summary so far)
and stores each result as a Summary record pointing at the messages it covers. The messages
themselves are never touched.
"""

from __future__ import annotations

from bisect import bisect_right

from tui.core.client import ChatClient, RequestParams
from tui.core.context import Budget, plan_summary_chunks, summary_prompt
from tui.core.models import Conversation, Message, Role, Summary
from tui.core.store import Store
from tui.core.tokens import TokenCounter

# Summaries should be short next to the window they free up.
SUMMARY_MAX_TOKENS = 1024


async def summarize_into(store: Store, client: ChatClient, counter: TokenCounter,
                         conversation: Conversation, messages: list[Message],
                         previous: Summary | None, *, model: str, budget: Budget) -> Summary:
    """Summarize ``messages`` (oldest first) on top of ``previous``; return the newest summary.

    Raises ClientError when the model cannot be reached; nothing is stored then for the
    failing piece (pieces already summarized stay, they are correct).
    """
    current = previous
    max_tokens = max(64, min(SUMMARY_MAX_TOKENS, budget.available // 4))
    first_id = previous.first_message_id if previous else messages[0].id
    stored_ids = [message.id for message in store.load_messages(conversation.id)]
    for chunk in plan_summary_chunks(messages, budget, counter):
        text = await client.complete(model, summary_prompt(chunk, current),
                                     RequestParams(max_output_tokens=max_tokens))
        text = text.strip() or "(the model returned an empty summary)"
        # Every stored message up to the chunk's end, errors included: what the block hides.
        covered = bisect_right(stored_ids, chunk[-1].id)
        current = store.add_summary(
            conversation.id, text,
            first_message_id=first_id,
            last_message_id=chunk[-1].id,
            covered_count=covered,
            token_count=counter.count_message(Role.SYSTEM, text),
            model=model,
            previous_summary_id=current.id if current else None,
        )
    assert current is not None
    return current

