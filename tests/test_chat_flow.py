"""The send → stream → persist flow, headless, over real HTTP against the test server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core import chat as chat_module
from tui.core.chat import (
    AssistantDelta,
    AssistantFinished,
    ChatFlow,
    ContextNotice,
    FlowFailed,
    RetryWait,
    TitleUpdated,
    UserMessageStored,
    collect,
)
from tui.core.client import ChatClient
from tui.core.config import Settings
from tui.core.models import MessageStatus, Role, Strategy
from tui.core.store import Store
from tui.core.tokens import TokenCounter


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "chat.db")
    yield store
    store.close()


@pytest.fixture
def counter():
    counter = TokenCounter("gpt-4o")
    assert counter.load_blocking(), "the offline tiktoken cache should be available in tests"
    return counter


@pytest.fixture
async def flow(store, counter, fake_openai):
    client = ChatClient(base_url=fake_openai.base_url, api_key=None, backoff_base=0.01,
                        backoff_max=0.05)
    settings = Settings(model="gpt-4o", base_url=fake_openai.base_url)
    yield ChatFlow(store, client, counter, settings)
    await client.aclose()


def kinds(events):
    return [type(event).__name__ for event in events]


async def test_send_stores_both_messages_and_streams(flow, store, fake_openai):
    fake_openai.script(Script.reply("Hello there, friend."))
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "Say hello\nplease"))
    assert kinds(events)[:3] == ["UserMessageStored", "TitleUpdated", "AssistantStarted"]
    assert isinstance(events[-1], AssistantFinished)
    streamed = "".join(e.text for e in events if isinstance(e, AssistantDelta))
    assert streamed == "Hello there, friend."
    user, assistant = store.load_messages(conversation.id)
    assert (user.role, user.content, user.status) == (Role.USER, "Say hello\nplease",
                                                      MessageStatus.COMPLETE)
    assert user.token_count == flow.counter.count_message("user", "Say hello\nplease")
    assert (assistant.role, assistant.content, assistant.status) == (
        Role.ASSISTANT, "Hello there, friend.", MessageStatus.COMPLETE)
    assert assistant.finish_reason == "stop"
    assert assistant.prompt_tokens and assistant.completion_tokens
    assert store.get_conversation(conversation.id).title == "Say hello"
    sent = fake_openai.chat_requests()[-1]
    assert sent["messages"] == [{"role": "user", "content": "Say hello\nplease"}]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


async def test_user_message_is_stored_before_the_request_leaves(flow, store, fake_openai):
    seen: list[list[str]] = []

    def responder(body):
        with Store(store.path) as other:
            seen.append([m.content for m in other.load_messages(conversation.id)])
        return None

    fake_openai.responder = responder
    conversation = flow.new_conversation(system_prompt="Be brief.")
    await collect(flow.send(conversation.id, "first question"))
    assert seen[0][0] == "first question"
    assert fake_openai.chat_requests()[0]["messages"][0] == {"role": "system",
                                                            "content": "Be brief."}


async def test_empty_prompt_is_refused_and_nothing_stored(flow, store, fake_openai):
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "  \n "))
    assert len(events) == 1 and isinstance(events[0], FlowFailed)
    assert events[0].kind == "empty" and events[0].exit_code == 2
    assert store.count_messages(conversation.id) == 0
    assert fake_openai.chat_requests() == []


async def stalled_reply(flow, fake_openai, conversation_id: str) -> tuple[asyncio.Task,
                                                                         list[str]]:
    """Send in a task of its own until the server has stalled mid-reply and the flow has
    handed on what arrived before that: the task, and the deltas it received."""
    fake_openai.script(Script.reply("one two three four five six seven", hold_after=3))
    received: list[str] = []
    first_delta = asyncio.Event()

    async def consume():
        async for event in flow.send(conversation_id, "count"):
            if isinstance(event, AssistantDelta):
                received.append(event.text)
                first_delta.set()

    task = asyncio.create_task(consume())
    assert await asyncio.to_thread(fake_openai.holding.wait, 10)
    await asyncio.wait_for(first_delta.wait(), 10)
    return task, received


async def test_cancel_keeps_partial_reply_as_interrupted(flow, store, fake_openai, monkeypatch):
    monkeypatch.setattr(chat_module, "FLUSH_INTERVAL", 0.0)
    conversation = flow.new_conversation()
    task, received = await stalled_reply(flow, fake_openai, conversation.id)
    # While streaming, the partial reply is already on disk (flushed) with status streaming.
    with Store(store.path) as other:
        streaming = other.load_messages(conversation.id)[-1]
    assert streaming.status == MessageStatus.STREAMING and streaming.content
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_openai.client_disconnected.wait, 1.0)
    reply = store.load_messages(conversation.id)[-1]
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.content == "".join(received) and reply.content


async def test_cut_stream_keeps_partial_reply(flow, store, fake_openai):
    fake_openai.script(Script.cut("alpha beta gamma delta epsilon zeta eta theta", after=3))
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "go"))
    failure = events[-1]
    assert isinstance(failure, FlowFailed) and failure.kind == "stream_cut"
    reply = store.load_messages(conversation.id)[-1]
    partial = "".join(e.text for e in events if isinstance(e, AssistantDelta))
    assert partial and reply.content == partial
    assert reply.status == MessageStatus.INTERRUPTED and reply.error


async def test_auth_error_is_stored_and_retry_reuses_the_user_message(flow, store, fake_openai):
    fake_openai.script(Script.invalid_api_key())
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "hi"))
    failure = events[-1]
    assert isinstance(failure, FlowFailed) and failure.kind == "auth"
    assert "401" in failure.error
    stored = store.load_messages(conversation.id)
    assert [m.status for m in stored] == [MessageStatus.COMPLETE, MessageStatus.ERROR]
    assert stored[-1].content == "" and "401" in stored[-1].error

    fake_openai.script(Script.reply("welcome back"))
    events = await collect(flow.retry(conversation.id))
    assert isinstance(events[-1], AssistantFinished)
    stored = store.load_messages(conversation.id)
    assert [(m.role, m.content) for m in stored] == [(Role.USER, "hi"),
                                                    (Role.ASSISTANT, "welcome back")]
    # The error text was never sent to the model as if the assistant had said it.
    assert all("401" not in str(r["messages"]) for r in fake_openai.chat_requests())


async def test_rate_limit_waits_are_reported(flow, store, fake_openai):
    fake_openai.script(Script.rate_limited(retry_after=0), Script.reply("ok now"))
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "hi"))
    waits = [e for e in events if isinstance(e, RetryWait)]
    assert len(waits) == 1 and "429" in waits[0].reason
    assert store.load_messages(conversation.id)[-1].content == "ok now"


async def test_regenerate_shows_a_new_reply_and_keeps_the_old_one(flow, store, fake_openai):
    fake_openai.script(Script.reply("first answer"), Script.reply("second answer"))
    conversation = flow.new_conversation()
    await collect(flow.send(conversation.id, "question"))
    events = await collect(flow.regenerate(conversation.id))
    assert not any(isinstance(e, UserMessageStored) for e in events)
    path = store.load_messages(conversation.id)
    assert [m.content for m in path] == ["question", "second answer"]
    assert store.count_messages(conversation.id) == 3  # the first answer stays, a sibling
    assert path[1].parent_id == path[0].id
    assert fake_openai.chat_requests()[-1]["messages"] == [{"role": "user",
                                                           "content": "question"}]


async def test_finish_reason_length_is_kept(flow, store, fake_openai):
    fake_openai.script(Script.reply("cut short", finish_reason="length"))
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "long please"))
    assert events[-1].message.finish_reason == "length"
    assert "output token limit" in chat_module.FINISH_NOTES["length"]


async def test_window_is_learned_from_the_server_and_request_retried(flow, store, fake_openai):
    fake_openai.context_window = 400
    conversation = flow.new_conversation()
    store.update_conversation(conversation.id, strategy=Strategy.TRUNCATE)
    for i in range(8):
        store.append_message(conversation.id, Role.USER, f"question {i} " + "word " * 40)
        store.append_message(conversation.id, Role.ASSISTANT, f"answer {i} " + "word " * 40)
    events = await collect(flow.send(conversation.id, "and now?"))
    notices = [e for e in events if isinstance(e, ContextNotice)]
    assert any(n.kind == "window_learned" and "400" in n.text for n in notices)
    assert any(n.kind == "truncated" for n in notices)
    assert isinstance(events[-1], AssistantFinished)
    assert store.get_model_window("gpt-4o", fake_openai.base_url) == 400
    assert store.get_model_window("gpt-4o") is None, "it belongs to this server alone"
    statuses = [r for r in fake_openai.chat_requests()]
    assert len(statuses) == 2


async def test_strategy_off_sends_everything_and_shows_the_servers_answer(flow, store,
                                                                         fake_openai):
    """Off means off: no local refusal on a count that may be wrong; the server decides."""
    fake_openai.context_window = 300
    conversation = flow.new_conversation()
    store.update_conversation(conversation.id, strategy=Strategy.OFF, context_window=300)
    for i in range(6):
        store.append_message(conversation.id, Role.USER, "word " * 50)
    events = await collect(flow.send(conversation.id, "one more"))
    failure = events[-1]
    assert isinstance(failure, FlowFailed) and failure.kind == "context"
    assert "300" in failure.error
    requests = fake_openai.chat_requests()
    assert len(requests) == 1, "sent once, whole, and not retried"
    assert len(requests[0]["messages"]) == 7
    stored = store.load_messages(conversation.id)
    assert stored[-2].content == "one more"
    assert stored[-1].status == MessageStatus.ERROR and "300" in (stored[-1].error or "")


@pytest.mark.parametrize("strategy", [Strategy.SUMMARIZE, Strategy.TRUNCATE])
async def test_long_conversation_never_overflows_a_small_window(flow, store, fake_openai,
                                                                strategy):
    """200 turns against a server enforcing a 1,024-token window."""
    fake_openai.context_window = 1024
    fake_openai.reply = lambda messages: "reply " + "lorem ipsum dolor " * 8
    conversation = flow.new_conversation(system_prompt="You are terse.")
    store.update_conversation(conversation.id, strategy=strategy, max_output_tokens=128,
                              context_window=1024)
    failures = []
    for turn in range(200):
        events = await collect(flow.send(conversation.id, f"turn {turn}: " + "tell me more " * 6))
        failures += [e for e in events if isinstance(e, FlowFailed)]
    assert failures == []
    requests = fake_openai.chat_requests()
    chat_requests = [r for r in requests if r.get("stream")]
    assert len(chat_requests) == 200, "no request was refused for its size"
    assert all(r["messages"][0] == {"role": "system", "content": "You are terse."}
               for r in chat_requests)
    assert store.count_messages(conversation.id) == 400, "the transcript is never altered"
    if strategy is Strategy.SUMMARIZE:
        summaries = store.list_summaries(conversation.id)
        assert summaries, "summaries are stored"
        summary_requests = [r for r in requests if not r.get("stream")]
        assert len(summary_requests) >= len(summaries)
        assert summaries[-1].covered_count > summaries[0].covered_count
    last = requests[-1]["messages"]
    assert last[-1]["content"].startswith("turn 199:")


@pytest.mark.parametrize("server_setting", ["max_model_len", "props_n_ctx"])
async def test_server_reported_window_is_used(flow, store, fake_openai, server_setting):
    """vLLM says max_model_len on /v1/models; llama.cpp says n_ctx on /props."""
    fake_openai.models = ["qwen2.5"]
    if server_setting == "max_model_len":
        fake_openai.max_model_len = {"qwen2.5": 2048}
    else:
        fake_openai.props_n_ctx = 2048
    conversation = flow.new_conversation(model="qwen2.5")
    await collect(flow.send(conversation.id, "hello"))
    assert store.get_model_window("qwen2.5", fake_openai.base_url) == 2048
    assert flow.window_for(store.get_conversation(conversation.id)) == 2048
    probes = len(fake_openai.requests)
    await collect(flow.send(conversation.id, "again"))
    assert len(fake_openai.requests) == probes + 1, "the server is asked once per session"


async def test_a_forgotten_window_is_asked_for_again_at_the_next_send(flow, store,
                                                                     fake_openai):
    """Forgetting a learned window (the server restarted with another, say) used to leave the
    guess for the rest of the session: the server had been asked once already."""
    fake_openai.models = ["qwen2.5"]
    fake_openai.props_n_ctx = 2048
    conversation = flow.new_conversation(model="qwen2.5")
    await collect(flow.send(conversation.id, "hello"))
    assert flow.window_for(store.get_conversation(conversation.id)) == 2048
    assert await asyncio.to_thread(flow.knowledge.forget_window, "qwen2.5") == 1
    assert flow.window_for(store.get_conversation(conversation.id)) != 2048
    fake_openai.props_n_ctx = 4096
    await collect(flow.send(conversation.id, "again"))
    assert flow.window_for(store.get_conversation(conversation.id)) == 4096
    assert store.get_model_window("qwen2.5", fake_openai.base_url) == 4096


async def test_model_written_title_when_configured(flow, store, fake_openai):
    flow.settings.auto_title = True

    def responder(body):
        if not body.get("stream"):
            assert "title" in body["messages"][0]["content"].lower()
            return Script.reply('"Tomato Growing Basics"')
        return None

    fake_openai.responder = responder
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "how do I grow tomatoes on a balcony?"))
    titles = [e.title for e in events if isinstance(e, TitleUpdated)]
    assert titles == ["how do I grow tomatoes on a balcony?", "Tomato Growing Basics"]
    assert store.get_conversation(conversation.id).title == "Tomato Growing Basics"
    # Only the first exchange is titled by the model.
    await collect(flow.send(conversation.id, "and peppers?"))
    assert len([r for r in fake_openai.chat_requests() if not r.get("stream")]) == 1


async def test_model_title_failure_keeps_the_first_message_title(flow, store, fake_openai):
    flow.settings.auto_title = True
    fake_openai.responder = lambda body: (None if body.get("stream")
                                          else Script.server_error(500))
    conversation = flow.new_conversation()
    events = await collect(flow.send(conversation.id, "keep this title"))
    assert isinstance(events[-1], AssistantFinished)
    assert store.get_conversation(conversation.id).title == "keep this title"
