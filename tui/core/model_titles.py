"""A short title written by the model after a conversation's first exchange.

Asked once, with the first message and the reply cut to 2,000 characters, for at most 24
tokens; any failure keeps the title taken from the first message. The request's usage still
teaches the counting calibration, since it is a real prompt the server counted.
"""

from __future__ import annotations

import logging

from tui.core.client import ChatClient, ClientError, RequestParams
from tui.core.counting import ServerKnowledge
from tui.core.hosts import sanitize_url
from tui.core.locked_writes import SIDE_PATIENCE, save_now_or_later
from tui.core.models import Conversation
from tui.core.store import Store
from tui.core.titles import title_from_text
from tui.core.tokens import REPLY_PRIMING, TokenCounter
from tui.core.usage import record_side_request

log = logging.getLogger(__name__)

INSTRUCTION = ("Write a title of at most six words for this conversation. "
               "Reply with the title only.")


def is_first_exchange(store: Store, conversation_id: str) -> bool:
    return store.count_messages(conversation_id) <= 2


async def model_title(client: ChatClient, counter: TokenCounter, knowledge: ServerKnowledge,
                      store: Store, conversation: Conversation, reply: str) -> str | None:
    """The model's title for ``conversation``, or None when it gave none."""
    first = store.load_messages(conversation.id, limit=2)
    prompt = [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": (first[0].content if first else "")[:2000]},
        {"role": "assistant", "content": reply[:2000]},
    ]
    try:
        done = await client.complete_full(conversation.model, prompt,
                                          RequestParams(max_output_tokens=24))
    except ClientError:
        log.info("no model-written title", exc_info=True)
        return None
    # Not waited for on the event loop while another program holds the database locked.
    save_now_or_later(store, lambda: record_side_request(
        store, conversation.id, "title", model=conversation.model,
        server=sanitize_url(client.base_url), usage=done.usage), patience=SIDE_PATIENCE)
    if done.usage is not None:
        exact = counter.exact
        local = REPLY_PRIMING + sum(counter.count_message(m["role"], m["content"])
                                    for m in prompt)
        knowledge.learn_usage(conversation.model, local, done.usage.prompt_tokens,
                              knowledge.window(conversation).size, exact=exact)
    title = title_from_text(done.text.strip().strip('"').strip("'"))
    return title or None
