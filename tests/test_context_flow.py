"""Issue 8 over real HTTP: exact counts, overflow retries, the summarizer, refusals, preview.

Against the test server made awkward the way a small llama.cpp box is: a tokenizer counting
about twice what tiktoken does, a ChatML template, /tokenize and /apply-template (llama.cpp)
or /tokenize with messages (vLLM), its own overflow error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI, Script
from tests.long_run import make_prompts, short_reply
from tui.core.session import NewConversation
from tui.core.chat import (
    AssistantFinished,
    ChatFlow,
    ContextNotice,
    FlowFailed,
    MAX_OVERFLOW_RETRIES,
    UserMessageStored,
    collect,
)
from tui.core.client import ChatClient
from tui.core.config import Settings
from tui.core.models import Role, Strategy
from tui.core.preview import preview_request
from tui.core.store import Store
from tui.core.summarize import MAX_SUMMARY_CALLS
from tui.core.tokens import TokenCounter

MODEL = "tiny-llama"


@pytest.fixture
def counter() -> TokenCounter:
    counter = TokenCounter("gpt-4o")
    assert counter.load_blocking()
    return counter


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "ctx.db") as store:
        yield store


def awkward(flavor: str = "llamacpp", **kwargs) -> FakeOpenAI:
    options = dict(tokenizer="foreign", flavor=flavor, context_window=512, models=[MODEL],
                   reply=short_reply)
    options.update(kwargs)
    return FakeOpenAI(**options)


async def flow_for(server: FakeOpenAI, store: Store, counter: TokenCounter,
                   strategy: Strategy = Strategy.TRUNCATE) -> ChatFlow:
    client = ChatClient(base_url=server.base_url, api_key=None, backoff_base=0.01,
                        backoff_max=0.02)
    return ChatFlow(store, client, counter,
                    Settings(model=MODEL, base_url=server.base_url, strategy=strategy))


@pytest.mark.parametrize("flavor", ["llamacpp", "vllm"])
async def test_plans_are_exact_where_the_server_tokenizes(store, counter, flavor) -> None:
    with awkward(flavor, context_window=2048) as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation()
        for text in make_prompts(6):
            preview = exact = None
            async for event in flow.send(conversation.id, text):
                if isinstance(event, UserMessageStored):
                    stored = store.get_conversation(conversation.id)
                    preview = flow.preview(stored)  # no HTTP: counts cached before
                    exact = await flow.plan_next(stored)  # the whole request counted
            assert preview is not None and exact is not None
            sent = server.chat_log()[-1]
            assert sent.messages == preview.messages == exact.messages
            assert exact.tokens == sent.prompt_tokens, "the plan is the server's own count"
            assert abs(preview.tokens - sent.prompt_tokens) <= sent.prompt_tokens // 100 + 2
        # Counts are cached by digest: a second flow (a new process) does not ask the server
        # to count any stored message again, only its template probe and the whole request.
        seen = len(server.requests)
        again = await flow_for(server, store, counter)
        await again.plan_next(store.get_conversation(conversation.id))
        asked = [r.body for r in server.requests[seen:] if r.path == "/tokenize"]
        # (the newest reply was never in a request: it is the one text counted now)
        texts = {m.content for m in store.load_messages(conversation.id)[:-1]}
        assert asked and not [b for b in asked if (b.get("content") in texts
                                                   or b.get("prompt") in texts)]
        await flow.client.aclose()
        await again.client.aclose()


async def test_an_overflow_teaches_the_count_and_is_never_resent(store, counter) -> None:
    """No /tokenize: the first overflow's n_prompt_tokens recalibrates; the retry differs."""
    with awkward("openai", overflow_error="llamacpp") as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation()
        overflows = 0
        for text in make_prompts(24)[:24]:
            events = await collect(flow.send(conversation.id, text))
            assert not [e for e in events if isinstance(e, FlowFailed)]
        bodies = [tuple(m["content"] for m in r.messages) for r in server.chat_log()]
        refused = [r for r in server.chat_log() if r.too_long]
        overflows = len(refused)
        assert overflows <= 1
        for r in refused:  # what failed was never sent again
            assert bodies.count(tuple(m["content"] for m in r.messages)) == 1
        await flow.client.aclose()


async def test_retries_after_overflow_are_bounded_and_each_one_smaller(store, counter,
                                                                       fake_openai) -> None:
    fake_openai.script(*[Script.context_length_exceeded(4000, 5000)] * 10)
    flow = await flow_for(fake_openai, store, counter)
    conversation = flow.new_conversation()
    for i in range(12):
        store.append_message(conversation.id, Role.USER, f"question {i} " + "word " * 300)
        store.append_message(conversation.id, Role.ASSISTANT, f"answer {i} " + "word " * 300)
    events = await collect(flow.send(conversation.id, "and now?"))
    failure = events[-1]
    assert isinstance(failure, FlowFailed) and failure.kind == "context"
    requests = fake_openai.chat_requests()
    assert len(requests) == MAX_OVERFLOW_RETRIES + 1
    sizes = [len(r["messages"]) for r in requests]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)
    assert "gave up after" in failure.error
    notices = [e for e in events if isinstance(e, ContextNotice)]
    assert sum(n.kind in ("overflow_retry", "window_learned") for n in notices) == \
        MAX_OVERFLOW_RETRIES
    await flow.client.aclose()


async def test_a_message_too_long_for_the_window_is_refused_before_it_is_stored(
        store, counter) -> None:
    with awkward() as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation()
        events = await collect(flow.send(conversation.id, "word " * 400))
        (failure,) = events
        assert isinstance(failure, FlowFailed) and failure.kind == "too_long"
        assert "too long" in failure.error and "more than" in failure.error
        assert "512" in failure.error.replace(",", "")
        assert store.count_messages(conversation.id) == 0, "nothing is stored"
        assert server.chat_log() == []
        # Off means off: the server decides (and its answer is shown).
        store.update_conversation(conversation.id, strategy=Strategy.OFF)
        events = await collect(flow.send(conversation.id, "word " * 400))
        assert isinstance(events[-1], FlowFailed) and events[-1].kind == "context"
        assert len(server.chat_log()) == 1
        await flow.client.aclose()


async def test_a_lone_message_is_counted_exactly_only_near_the_edge(store, counter) -> None:
    """The too-long check renders the message alone on the server only when its estimate
    (cached counts plus the template's measured cost) comes near the window: two round trips
    spared on an ordinary turn. The whole request is still counted exactly before it goes."""
    with awkward() as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation()
        await collect(flow.send(conversation.id, "hello"))

        def rendered_alone(text: str) -> bool:
            return any(r.path == "/apply-template"
                       and r.body["messages"] == [{"role": "user", "content": text}]
                       for r in server.requests)

        seen = len(server.requests)
        await collect(flow.send(conversation.id, "how are you"))
        assert not rendered_alone("how are you")
        whole = [r for r in server.requests[seen:] if r.path == "/apply-template"]
        assert [len(r.body["messages"]) for r in whole] == [3], "the request, exactly"
        (failure,) = await collect(flow.send(conversation.id, "word " * 400))
        assert isinstance(failure, FlowFailed) and failure.kind == "too_long"
        assert rendered_alone("word " * 400), "near (here past) the edge: asked exactly"
        await flow.client.aclose()


async def test_a_new_chat_whose_first_message_is_too_long_leaves_nothing(store, counter) -> None:
    """The no-litter rule and the too-long refusal together: no conversation row either."""
    with awkward() as server:
        flow = await flow_for(server, store, counter)
        spec = NewConversation(model=flow.settings.model, strategy=Strategy.TRUNCATE)
        events = await collect(flow.send(spec, "word " * 400))
        (failure,) = events
        assert isinstance(failure, FlowFailed) and failure.kind == "too_long"
        assert store.count_conversations() == 0, "the new chat is not stored"
        assert server.chat_log() == []
        await flow.client.aclose()


async def test_cut_or_long_summaries_are_never_stored(store, counter) -> None:
    with awkward(summary_replies=["cut", "long"]) as server:
        flow = await flow_for(server, store, counter, Strategy.SUMMARIZE)
        conversation = flow.new_conversation()
        store.update_conversation(conversation.id, strategy=Strategy.SUMMARIZE)
        notices = []
        for text in make_prompts(8):
            before = len([r for r in server.chat_log() if r.summary])
            events = await collect(flow.send(conversation.id, text))
            assert isinstance(events[-1], AssistantFinished)
            notices += [e for e in events if isinstance(e, ContextNotice)]
            calls = len([r for r in server.chat_log() if r.summary]) - before
            assert calls <= MAX_SUMMARY_CALLS, "a bounded number of summary calls per send"
        assert store.list_summaries(conversation.id) == []
        assert any(n.kind == "summary_failed" for n in notices)
        summaries = [r for r in server.chat_log() if r.summary]
        assert summaries and not any(r.too_long for r in summaries)
        assert all(r.body.get("max_tokens") for r in summaries), "room for the reply is set"
        await flow.client.aclose()


async def test_good_summaries_are_stored_and_requests_never_overflow(store, counter) -> None:
    with awkward(summary_replies=["short"]) as server:
        flow = await flow_for(server, store, counter, Strategy.SUMMARIZE)
        conversation = flow.new_conversation()
        store.update_conversation(conversation.id, strategy=Strategy.SUMMARIZE)
        for text in make_prompts(10):
            events = await collect(flow.send(conversation.id, text))
            assert isinstance(events[-1], AssistantFinished)
        assert store.list_summaries(conversation.id)
        assert not any(r.too_long for r in server.chat_log())
        await flow.client.aclose()


async def test_preview_lists_fates_and_equals_the_request_sent(store, counter) -> None:
    with awkward() as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation()
        for text in make_prompts(5):
            await collect(flow.send(conversation.id, text))
        first = store.load_messages(conversation.id)[0]
        store.set_message_pinned(first.id, True)
        store.append_message(conversation.id, Role.USER, "and one more thing?")
        preview = await preview_request(flow, store.get_conversation(conversation.id))
        fates = {item.message_id: item.fate for item in preview.items}
        assert fates[first.id] == "pinned"
        assert "dropped" in fates.values() and list(fates.values())[-1] == "sent"
        assert preview.window == 512 and preview.window_source == "server"
        assert preview.exact and preview.tokens <= preview.available
        assert preview.reply_reserve == 128
        sent_items = [i for i in preview.items if i.fate in ("sent", "pinned")]
        assert [i.content for i in sent_items] == [m["content"] for m in preview.messages]
        before = len(server.chat_log())
        await collect(flow.retry(conversation.id))
        assert len(server.chat_log()) == before + 1
        assert server.chat_log()[-1].messages == preview.messages
        assert server.chat_log()[-1].prompt_tokens == preview.tokens
        await flow.client.aclose()


async def test_reply_cut_by_the_end_of_the_window_is_said_to_be(store, counter) -> None:
    with awkward(context_window=200, reply=lambda messages: "word " * 400) as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation()
        events = await collect(flow.send(conversation.id, "tell me everything"))
        finished = events[-1]
        assert isinstance(finished, AssistantFinished)
        assert finished.message.finish_reason == "length"
        assert finished.note is not None and "context window" in finished.note
        await flow.client.aclose()


async def test_every_reported_count_calibrates_titles_included(store, counter) -> None:
    with awkward("openai", context_window=4096) as server:
        flow = await flow_for(server, store, counter)
        flow.settings.auto_title = True
        conversation = flow.new_conversation()
        await collect(flow.send(conversation.id, "how do tokenizers differ between models?"))
        calibration = flow.knowledge.calibration(None, MODEL)
        assert calibration.samples == 2, "the chat request and the title request"
        assert calibration.ratio > 1.3, "the foreign tokenizer counts more than tiktoken"
        # It is kept per server and model, for the next process.
        state = store.calibration(server.base_url, MODEL)
        assert state is not None and state["samples"] == 2
        await flow.client.aclose()


async def test_a_send_to_a_tokenizing_server_waits_for_a_locked_database_off_the_loop(
        store, counter):
    """Two writes of a send were made on the event loop: the server's counts of the texts
    (kept for later sessions), and the new chat's title from its first message. With
    another program holding the lock, the loop stood still until it was free, and the title
    then failed the send ("database is locked") once the busy timeout ran out."""
    from tests.test_locked_writes import HOLD, LoopWatch, other_program

    with awkward() as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation(model=MODEL)
        await flow.probe_server_window(MODEL)
        for lock_at in (UserMessageStored, None):  # as the title is stored, then from the start
            holder = None if lock_at is not None else other_program(store.path)
            if holder is not None:
                asyncio.get_running_loop().call_later(
                    HOLD, lambda h=holder: (h.execute("COMMIT"), h.close()))
            watch = LoopWatch()
            events = []
            try:
                async for event in flow.send(conversation.id, f"how do tokenizers differ, {lock_at}?"):
                    events.append(event)
                    if lock_at is not None and isinstance(event, lock_at) and holder is None:
                        holder = other_program(store.path)
                        asyncio.get_running_loop().call_later(
                            HOLD, lambda h=holder: (h.execute("COMMIT"), h.close()))
            finally:
                watch.stop()
            assert not [e for e in events if isinstance(e, FlowFailed)], events[-1]
            assert watch.longest_stall() < HOLD / 3, (
                f"the loop stood still {watch.longest_stall():.2f} s (lock at {lock_at})")
            conversation = store.get_conversation(conversation.id)
            await asyncio.sleep(HOLD)  # the other program's lock is gone
        await flow.client.aclose()
    assert store.conn.execute("SELECT count(*) FROM token_cache").fetchone()[0] > 0
    assert store.get_conversation(conversation.id).title.startswith("how do tokenizers")
