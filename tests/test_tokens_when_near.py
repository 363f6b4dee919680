"""A deferred encoding loads only when a chat comes near its window (tokens.EXACT_SHARE).

The encoding is ~50 MB of tiktoken's tables. Below half the prompt budget in UTF-8 bytes no
count can change what a request sends, so the app leaves it unloaded there; near the
window the meter asks for it, and a send that comes first loads it before planning.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI, Script
from tests.test_context import chat, make
from tui.core.chat import ChatFlow, FlowFailed, collect
from tui.core.client import ChatClient
from tui.core.config import Settings
from tui.core.context import budget_for
from tui.core.meter import ContextMeter
from tui.core.models import Role
from tui.core.preview import preview_request
from tui.core.store import Store
from tui.core.tokens import (
    EXACT_SHARE,
    TokenCounter,
    counts_may_matter,
    estimate_tokens,
    text_bytes,
)

MODEL = "gpt-4"  # an 8k window in the table: a prompt budget of ~6,000 tokens
AVAILABLE = budget_for(8_192, None).available


def deferred() -> TokenCounter:
    counter = TokenCounter(MODEL)
    counter.defer_loading()
    return counter


@pytest.mark.parametrize("text", ["plain words here", "naïve café 😀", "数据库" * 10,
                                  "1234567890 " * 5, "!!!???...", "\n\n    \t"])
def test_the_estimate_never_counts_more_tokens_than_bytes(text) -> None:
    """What makes bytes a bound the estimate cannot pass (see EXACT_SHARE)."""
    assert estimate_tokens(text) <= text_bytes(text)


def test_text_bytes_is_utf8_and_survives_a_lone_surrogate() -> None:
    assert text_bytes("abc") == 3 and text_bytes("é") == 2 and text_bytes("\ud800") == 3


def test_counts_matter_from_half_the_budget_in_bytes() -> None:
    assert not counts_may_matter(int(AVAILABLE * EXACT_SHARE) - 1, AVAILABLE)
    assert counts_may_matter(int(AVAILABLE * EXACT_SHARE) + 1, AVAILABLE)


def test_the_meter_follows_the_chat_s_bytes() -> None:
    meter = ContextMeter(deferred())
    history = chat(4, 20)
    meter.set_conversation(system_prompt="Be brief.", history=history, summary=None,
                           budget=budget_for(8_192, None), strategy="summarize")
    stored = text_bytes("Be brief.") + sum(text_bytes(m.content) for m in history)
    room = math.ceil(AVAILABLE * EXACT_SHARE) - stored
    assert not meter.counts_may_matter("x" * (room - 1))
    assert meter.counts_may_matter("x" * room)
    long_reply = replace(make(99, Role.ASSISTANT, "y" * room), parent_id=history[-1].id)
    meter.append(long_reply)
    assert meter.counts_may_matter("")  # the reply brought it near
    meter.update_message(replace(long_reply, content="y"))
    assert not meter.counts_may_matter("")  # and an edit can take it back


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "near.db") as store:
        yield store


async def _flow(server: FakeOpenAI, store: Store, counter: TokenCounter) -> ChatFlow:
    client = ChatClient(base_url=server.base_url, api_key=None)
    return ChatFlow(store, client, counter, Settings(model=MODEL, base_url=server.base_url))


NEAR = "word " * int(AVAILABLE * EXACT_SHARE / 5 + 10)  # just past half the budget in bytes


async def send_one(store: Store, counter: TokenCounter, text: str) -> tuple[list, str]:
    """Send ``text`` in a new chat of a flow counting with ``counter``: the flow's events,
    and the last message's text as the server received it."""
    with FakeOpenAI(models=[MODEL]) as server:
        server.script(Script.reply("read it"))
        flow = await _flow(server, store, counter)
        try:
            events = await collect(flow.send(flow.new_conversation().id, text))
        finally:
            await flow.client.aclose()
        return events, server.chat_log()[-1].messages[-1]["content"]


def failures(events: list) -> list[FlowFailed]:
    return [event for event in events if isinstance(event, FlowFailed)]


async def test_a_send_far_from_the_window_leaves_the_encoding_unloaded(store) -> None:
    counter = deferred()
    events, sent = await send_one(store, counter, "hello there")
    assert sent == "hello there" and not failures(events)
    assert counter.deferred and not counter.exact


async def test_a_send_near_the_window_loads_it_before_planning(store) -> None:
    counter = deferred()
    events, sent = await send_one(store, counter, NEAR)
    assert sent == NEAR and not failures(events)
    assert counter.exact


async def test_the_preview_loads_it_however_short_the_chat(store) -> None:
    """The preview is there to show counts: it does not show estimates on a model whose
    own encoding could count them."""
    counter = deferred()
    with FakeOpenAI(models=[MODEL]) as server:
        server.script(Script.reply("short"))
        flow = await _flow(server, store, counter)
        conversation = flow.new_conversation()
        await collect(flow.send(conversation.id, "hello"))
        assert not counter.exact
        await preview_request(flow, store.get_conversation(conversation.id))
        assert counter.exact
        await flow.client.aclose()


async def test_a_message_near_the_window_is_judged_on_exact_counts(store) -> None:
    """The estimate reads long words high (3 tokens for " understanding", tiktoken's 1):
    judged on it, this message was refused as too long for a window it fits."""
    counter = deferred()
    text = "understanding " * 2_500
    assert estimate_tokens(text) > AVAILABLE  # the estimate alone refuses it
    events, sent = await send_one(store, counter, text)
    assert not failures(events), events
    assert counter.exact and sent == text


async def test_calibration_learns_only_from_the_encoding_s_counts(store) -> None:
    """Far from the window the counts are estimates: a line fitted to them (estimate ->
    server) under-counted once the encoding's counts were planned with it near the window,
    the one place the line matters. Near, where the encoding is in, it learns."""
    counter = deferred()
    model = "foreign-model"  # not OpenAI's: planned with the line (the 8k guess as window)
    with FakeOpenAI(models=[model], tokenizer="foreign") as server:
        client = ChatClient(base_url=server.base_url, api_key=None)
        flow = ChatFlow(store, client, counter, Settings(model=model, base_url=server.base_url))
        conversation = flow.new_conversation()
        for text in ("hello there", "a second short question", "and a third one"):
            server.script(Script.reply("a short answer"))
            await collect(flow.send(conversation.id, text))
        stored = store.get_conversation(conversation.id)
        assert not counter.exact
        assert flow.knowledge.calibration(stored, model).samples == 0
        server.script(Script.reply("read it"))
        await collect(flow.send(conversation.id, "a line of words, pasted\n" * 150))
        assert counter.exact
        assert flow.knowledge.calibration(stored, model).samples == 1
        await client.aclose()


async def test_near_the_window_without_an_encoding_to_load_the_send_goes_on_estimates(
        store, tmp_path, monkeypatch) -> None:
    """No cached encoding (an offline machine that never had one): the load a send near
    the window waits for fails at once, and the message is planned and sent on estimates,
    as the app does when no encoding can be loaded at all."""
    empty = tmp_path / "no-tiktoken-cache"
    empty.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(empty))
    counter = deferred()
    events, sent = await send_one(store, counter, NEAR)
    assert not failures(events), events
    assert sent == NEAR
    assert not counter.exact and not counter.deferred  # tried once, not again
