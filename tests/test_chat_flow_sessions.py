"""The flow's seams with the rest of the session: new chats stored with their first message,
sends that refuse history the caller has not shown, and background titles that yield to the
user's. Over real HTTP against the test server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core.chat import (
    AssistantFinished,
    ChatFlow,
    ConversationCreated,
    FlowFailed,
    Seen,
    TitleUpdated,
    UserMessageStored,
    collect,
)
from tui.core.client import ChatClient
from tui.core.config import Settings
from tui.core.models import Role, Strategy
from tui.core.session import NewConversation, new_conversation_spec
from tui.core.store import Store
from tui.core.tokens import TokenCounter


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "chat.db")
    yield store
    store.close()


@pytest.fixture
async def flow(store, fake_openai):
    counter = TokenCounter("gpt-4o")
    assert counter.load_blocking()
    client = ChatClient(base_url=fake_openai.base_url, api_key=None)
    yield ChatFlow(store, client, counter, Settings(model="gpt-4o"))
    await client.aclose()


# -- item 14: no litter ------------------------------------------------------------------------

async def test_a_new_chat_is_stored_with_its_first_message(flow, store, fake_openai):
    spec = new_conversation_spec(flow.settings, system_prompt="be brief")
    assert store.count_conversations() == 0  # a pending chat leaves nothing behind
    fake_openai.script(Script.reply("hi"))
    events = await collect(flow.send(spec, "hello"))
    assert isinstance(events[0], ConversationCreated)
    assert isinstance(events[1], UserMessageStored)
    assert isinstance(events[-1], AssistantFinished)
    created = events[0].conversation
    assert (created.model, created.system_prompt, created.strategy) == (
        "gpt-4o", "be brief", Strategy.SUMMARIZE)
    assert events[1].message.conversation_id == created.id
    assert [c.id for c in store.list_conversations()] == [created.id]
    assert [m.role for m in store.load_messages(created.id)] == [Role.USER, Role.ASSISTANT]
    assert fake_openai.chat_requests()[-1]["messages"][0] == {"role": "system",
                                                              "content": "be brief"}


async def test_an_empty_first_message_stores_no_conversation(flow, store):
    events = await collect(flow.send(NewConversation(model="gpt-4o"), "   "))
    assert [type(e) for e in events] == [FlowFailed] and events[0].kind == "empty"
    assert store.count_conversations() == 0


# -- item 4: a request never carries messages the screen has not shown --------------------------

async def test_send_refuses_when_another_copy_added_messages(flow, store, fake_openai, tmp_path):
    conversation = store.create_conversation(model="gpt-4o")
    fake_openai.script(Script.reply("first answer"))
    events = await collect(flow.send(conversation.id, "first"))
    shown = events[-1].message.id  # the newest message this window shows
    with Store(tmp_path / "chat.db") as other_window:
        other_window.append_message(conversation.id, Role.USER, "written elsewhere")
    requests = len(fake_openai.chat_requests())
    events = await collect(flow.send(conversation.id, "second", seen=Seen(shown)))
    assert [type(e) for e in events] == [FlowFailed] and events[0].kind == "unseen"
    assert "another window" in events[0].error
    assert len(fake_openai.chat_requests()) == requests  # nothing was sent
    assert [m.content for m in store.load_messages(conversation.id)][-1] == "written elsewhere"
    # Once the window shows the new message, the send goes through.
    latest = store.latest_message_id(conversation.id)
    fake_openai.script(Script.reply("ok"))
    events = await collect(flow.send(conversation.id, "second", seen=Seen(latest)))
    assert isinstance(events[-1], AssistantFinished)
    sent = [m["content"] for m in fake_openai.chat_requests()[-1]["messages"]]
    assert sent == ["first", "first answer", "written elsewhere", "second"]


async def test_seen_empty_conversation_and_retry_are_checked_too(flow, store, tmp_path):
    conversation = store.create_conversation(model="gpt-4o")
    with Store(tmp_path / "chat.db") as other_window:
        other_window.append_message(conversation.id, Role.USER, "elsewhere")
    refused = await collect(flow.send(conversation.id, "mine", seen=Seen(None)))
    assert refused[0].kind == "unseen"
    refused = await collect(flow.retry(conversation.id, seen=Seen(None)))
    assert refused[0].kind == "unseen"
    refused = await collect(flow.regenerate(conversation.id, seen=Seen(None)))
    assert refused[0].kind == "unseen"
    assert store.count_messages(conversation.id) == 1


# -- item 12: the model's title never replaces one the user set meanwhile ---------------------

async def test_model_title_does_not_overwrite_a_title_set_meanwhile(flow, store, fake_openai,
                                                                    tmp_path):
    flow.settings.auto_title = True
    asked, release = threading.Event(), threading.Event()

    def responder(body):
        if body.get("stream"):
            return Script.reply("Tomatoes like sun.")
        asked.set()  # the title request is here: hold it until the user has renamed
        release.wait(10)
        return Script.reply("Model Written Title")

    fake_openai.responder = responder
    conversation = store.create_conversation(model="gpt-4o")
    task = asyncio.create_task(collect(flow.send(conversation.id, "how do I grow tomatoes?")))
    assert await asyncio.to_thread(asked.wait, 10)
    with Store(tmp_path / "chat.db") as other_window:
        other_window.rename_conversation(conversation.id, "My tomato notes")
    release.set()
    events = await task
    assert store.get_conversation(conversation.id).title == "My tomato notes"
    titles = [e.title for e in events if isinstance(e, TitleUpdated)]
    assert titles == ["how do I grow tomatoes?"]  # the first-message title only


async def test_model_title_still_replaces_the_automatic_one(flow, store, fake_openai):
    flow.settings.auto_title = True
    fake_openai.responder = lambda body: (Script.reply("answer") if body.get("stream")
                                          else Script.reply("Model Written Title"))
    conversation = store.create_conversation(model="gpt-4o")
    events = await collect(flow.send(conversation.id, "a question"))
    assert [e.title for e in events if isinstance(e, TitleUpdated)] == [
        "a question", "Model Written Title"]
    assert store.get_conversation(conversation.id).title == "Model Written Title"
