"""A reply streaming while another program holds the database's write lock
(tui/core/locked_writes.py): the event loop keeps running, the reply is not cut, and it is
stored whole once the lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tests import test_chat_flow
from tui.core import chat as chat_module
from tui.core.chat import AssistantDelta, AssistantFinished, FlowFailed, TitleUpdated
from tui.core.flow_events import AssistantStarted, AssistantStreamEnded, StoreWaiting
from tui.core.locked_writes import save_unless_locked, write_when_free
from tui.core.models import Message, MessageStatus, Role
from tui.core.store import Store
from tui.core.store_errors import DatabaseLocked

HOLD = 1.0  # seconds the other program holds the lock

# The chat flow's fixtures: a store, a token counter, a flow against the test server.
counter, flow, store = test_chat_flow.counter, test_chat_flow.flow, test_chat_flow.store


class LoopWatch:
    """Ticks every 20 ms on the running event loop until :meth:`stop`: how long it stood
    still at most in between (a write waiting on the loop shows here)."""

    def __init__(self) -> None:
        self._ticks: list[float] = []
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            self._ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        self._task.cancel()

    def longest_stall(self) -> float:
        ticks = self._ticks
        return max(later - earlier for earlier, later in zip(ticks, ticks[1:]))


def other_program(path: Path) -> sqlite3.Connection:
    """A second connection, as another process would have, holding the write lock."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def a_streaming_reply(store: Store) -> Message:
    """A reply's row, still streaming, in a new conversation."""
    conversation = store.create_conversation(model="m")
    return store.append_message(conversation.id, Role.ASSISTANT, "",
                                status=MessageStatus.STREAMING)


def held_by_a_thread(store: Store, hold: Callable[[], object]) -> threading.Thread:
    """A worker thread's store call, running ``hold`` with the store's lock held: started,
    and inside ``hold``, when this returns."""
    busy = threading.Event()

    def call(conn: sqlite3.Connection) -> None:
        busy.set()
        hold()

    worker = threading.Thread(target=store.read, args=(call,))
    worker.start()
    assert busy.wait(5)
    return worker


async def send_locked_at(flow, store: Store, conversation_id: str, text: str,
                         at: type) -> tuple[list[object], LoopWatch]:
    """Send ``text``; when the first event of type ``at`` comes, another program takes the
    write lock and holds it HOLD seconds. The events, and the loop's watch."""
    loop = asyncio.get_running_loop()
    watch = LoopWatch()
    holder: sqlite3.Connection | None = None
    events = []
    try:
        async for event in flow.send(conversation_id, text):
            events.append(event)
            if isinstance(event, at) and holder is None:
                holder = other_program(store.path)
                loop.call_later(HOLD, lambda: (holder.execute("COMMIT"), holder.close()))
    finally:
        watch.stop()
    assert holder is not None, f"no {at.__name__} came"
    return events, watch


async def test_a_reply_streams_on_and_is_stored_while_the_database_is_locked(
        flow, store, fake_openai, monkeypatch):
    monkeypatch.setattr(chat_module, "FLUSH_INTERVAL", 0.05)  # saves fall inside the hold
    words = " ".join(f"word{n}" for n in range(30))
    fake_openai.script(Script.reply(words, tps=40))  # ~1.5 s of stream
    conversation = flow.new_conversation()
    events, watch = await send_locked_at(flow, store, conversation.id, "Say many words",
                                         AssistantDelta)
    assert not [event for event in events if isinstance(event, FlowFailed)]
    finished = [event for event in events if isinstance(event, AssistantFinished)]
    assert finished and finished[0].message.content == words
    assert watch.longest_stall() < 0.3, f"the loop stood still {watch.longest_stall():.2f} s"
    stored = [m for m in store.load_messages(conversation.id) if m.role == Role.ASSISTANT]
    assert stored[-1].content == words and stored[-1].status == MessageStatus.COMPLETE


async def test_the_title_and_its_usage_wait_for_the_lock_without_holding_the_loop(
        flow, store, fake_openai):
    """After a reply, the model's title and its request's usage row were written on the event
    loop: with another program holding the lock, the loop stood still for the busy timeout
    (5 s), then the title was lost with "database is locked"."""
    flow.settings.auto_title = True

    def responder(body):
        return None if body.get("stream") else Script.reply('"Rivers Of The World"')

    fake_openai.responder = responder
    conversation = flow.new_conversation()
    events, watch = await send_locked_at(flow, store, conversation.id, "tell me about rivers",
                                         AssistantFinished)
    assert watch.longest_stall() < 0.3, f"the loop stood still {watch.longest_stall():.2f} s"
    assert [e.title for e in events if isinstance(e, TitleUpdated)][-1] == "Rivers Of The World"
    assert store.get_conversation(conversation.id).title == "Rivers Of The World"
    kinds = lambda: store.conn.execute(  # noqa: E731
        "SELECT kind FROM side_requests WHERE conversation_id = ?",
        (conversation.id,)).fetchall()
    for _ in range(50):  # the usage row is stored by a task of its own
        if kinds():
            break
        await asyncio.sleep(0.1)
    assert kinds() == [("title",)]


def test_a_save_is_skipped_at_once_while_the_lock_is_held(tmp_path: Path) -> None:
    store = Store(tmp_path / "chat.db")
    try:
        message = a_streaming_reply(store)
        holder = other_program(store.path)
        started = time.monotonic()
        saved = save_unless_locked(
            store, lambda: store.update_message(message.id, content="partial"))
        assert not saved and time.monotonic() - started < 0.5
        holder.execute("COMMIT")
        holder.close()
        assert save_unless_locked(
            store, lambda: store.update_message(message.id, content="partial"))
        assert store.get_message(message.id).content == "partial"
        # The connection's own busy timeout is back for everything else.
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    finally:
        store.close()


async def test_a_write_gives_up_after_its_patience(tmp_path: Path) -> None:
    store = Store(tmp_path / "chat.db")
    holder = other_program(store.path)
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseLocked):
            await write_when_free(store, lambda: store.create_conversation(model="m"),
                                  patience=0.3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    try:
        assert 0.3 <= time.monotonic() - started < 2.0
        assert await write_when_free(store, lambda: store.create_conversation(model="m"),
                                     patience=0.3)
    finally:
        store.close()


def test_a_save_does_not_wait_for_another_threads_call(tmp_path: Path) -> None:
    """A call from a worker thread may be waiting out the busy timeout with the store's
    lock held: the event loop's save is skipped, not made to wait behind it."""
    store = Store(tmp_path / "chat.db")
    try:
        message = a_streaming_reply(store)
        release = threading.Event()
        worker = held_by_a_thread(store, lambda: release.wait(5))
        started = time.monotonic()
        saved = save_unless_locked(
            store, lambda: store.update_message(message.id, content="partial"))
        took = time.monotonic() - started
        release.set()
        worker.join(5)
        assert not saved and took < 0.5
    finally:
        store.close()


async def test_a_message_sent_while_the_database_is_locked_waits_without_blocking(
        flow, store, fake_openai):
    """The user's message is stored before the request leaves: while another program holds
    the lock, that store waits (up to the busy timeout, as before), the loop running on."""
    fake_openai.script(Script.reply("Stored after the wait."))
    conversation = flow.new_conversation()
    loop = asyncio.get_running_loop()
    holder = other_program(store.path)
    loop.call_later(0.5, lambda: (holder.execute("COMMIT"), holder.close()))
    watch = LoopWatch()
    try:
        events = [event async for event in flow.send(conversation.id, "Hello")]
    finally:
        watch.stop()
    assert not [event for event in events if isinstance(event, FlowFailed)]
    assert [event for event in events if isinstance(event, AssistantFinished)]
    # The front end is told why nothing happens yet (the app's status line, ask's stderr).
    assert [event.what for event in events if isinstance(event, StoreWaiting)] == [
        "your message"]
    assert watch.longest_stall() < 0.3, f"the loop stood still {watch.longest_stall():.2f} s"
    roles = [message.role for message in store.load_messages(conversation.id)]
    assert roles == [Role.USER, Role.ASSISTANT]


async def test_a_reply_cancelled_while_the_database_is_locked_is_kept_once_it_is_free(
        flow, store, fake_openai, monkeypatch):
    """Esc while another program holds the lock: the cancel does not wait for it, and what
    arrived is stored as interrupted once the lock is free."""
    monkeypatch.setattr(chat_module, "FLUSH_INTERVAL", 0.0)
    conversation = flow.new_conversation()
    task, received = await test_chat_flow.stalled_reply(flow, fake_openai, conversation.id)
    holder = other_program(store.path)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5, "the cancel waited for the lock"
    holder.execute("COMMIT")
    holder.close()
    deadline = time.monotonic() + 5
    while True:
        reply = store.load_messages(conversation.id)[-1]
        if reply.status == MessageStatus.INTERRUPTED or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.content == "".join(received)


async def test_a_cut_stream_while_the_database_is_locked_fails_at_once_and_is_kept(
        flow, store, fake_openai):
    """The server cuts the stream while another program holds the lock: the failure shows
    at once with what arrived, which is stored once the lock is free."""
    fake_openai.script(Script.reply("one two three four five six seven", cut_after=3))
    conversation = flow.new_conversation()
    holder: sqlite3.Connection | None = None
    failed: list[FlowFailed] = []
    started = 0.0
    async for event in flow.send(conversation.id, "count"):
        if isinstance(event, AssistantDelta) and holder is None:
            holder = other_program(store.path)
            started = time.monotonic()
        if isinstance(event, FlowFailed):
            failed.append(event)
    assert holder is not None and failed
    assert time.monotonic() - started < 1.0, "the failure waited for the lock"
    assert failed[0].message is not None
    assert failed[0].message.status == MessageStatus.INTERRUPTED and failed[0].message.content
    holder.execute("COMMIT")
    holder.close()
    deadline = time.monotonic() + 5
    while store.load_messages(conversation.id)[-1].status != MessageStatus.INTERRUPTED:
        assert time.monotonic() < deadline, "never stored"
        await asyncio.sleep(0.05)
    assert store.load_messages(conversation.id)[-1].content == failed[0].message.content


async def test_a_whole_reply_waiting_for_the_lock_is_kept_when_cancelled(
        flow, store, fake_openai):
    """Esc after the last words came, while the reply waits for another program's lock:
    the whole reply is stored, complete, once the lock is free."""
    fake_openai.script(Script.reply("all of it arrived"))
    conversation = flow.new_conversation()
    holder: sqlite3.Connection | None = None
    ended = asyncio.Event()
    waiting: list[str] = []

    async def consume() -> None:
        nonlocal holder
        async for event in flow.send(conversation.id, "say it"):
            if isinstance(event, AssistantDelta) and holder is None:
                holder = other_program(store.path)
            if isinstance(event, AssistantStreamEnded):
                ended.set()
            if isinstance(event, StoreWaiting):
                waiting.append(event.what)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(ended.wait(), 10)
    await asyncio.sleep(0.3)  # the flow now waits for the lock to store the reply
    assert not task.done() and waiting == ["the reply"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert holder is not None
    holder.execute("COMMIT")
    holder.close()
    deadline = time.monotonic() + 5
    while store.load_messages(conversation.id)[-1].status != MessageStatus.COMPLETE:
        assert time.monotonic() < deadline, "never stored"
        await asyncio.sleep(0.05)
    assert store.load_messages(conversation.id)[-1].content == "all of it arrived"


def test_a_save_waits_for_another_threads_short_call(tmp_path: Path) -> None:
    """The store's own lock held for a few milliseconds (a draft saved from a thread) is
    waited for: the save runs now, not put off as if another program held the database
    (a cancelled reply was left 'streaming' for a moment)."""
    store = Store(tmp_path / "chat.db")
    try:
        message = a_streaming_reply(store)
        worker = held_by_a_thread(store, lambda: time.sleep(0.01))
        assert save_unless_locked(
            store, lambda: store.update_message(message.id, content="partial"))
        worker.join(5)
        assert store.get_message(message.id).content == "partial"
    finally:
        store.close()


@pytest.mark.parametrize("action", ["regenerate", "retry"])
async def test_a_regenerate_or_retry_while_the_database_is_locked_waits_without_blocking(
        flow, store, fake_openai, action):
    """Regenerate and retry clear the way for the new answer first (a retry deletes the
    failed reply, a regenerate moves the path's end): written on the event loop, they held
    it still for the busy timeout with another program holding the lock, then failed."""
    first = (Script.reply("the first answer") if action == "regenerate"
             else Script.cut("the first answer, cut", after=2))
    fake_openai.script(first, Script.reply("the second answer"))
    conversation = flow.new_conversation()
    async for _ in flow.send(conversation.id, "a question"):
        pass
    holder = other_program(store.path)
    asyncio.get_running_loop().call_later(HOLD, lambda: (holder.execute("COMMIT"),
                                                         holder.close()))
    watch = LoopWatch()
    try:
        events = [event async for event in getattr(flow, action)(conversation.id)]
    finally:
        watch.stop()
    assert watch.longest_stall() < 0.3, f"the loop stood still {watch.longest_stall():.2f} s"
    assert any(isinstance(event, StoreWaiting) for event in events)
    finished = [event for event in events if isinstance(event, AssistantFinished)]
    assert finished and finished[-1].message.content == "the second answer"
    replies = [m.content for m in store.load_messages(conversation.id) if m.role == Role.ASSISTANT]
    assert replies == ["the second answer"]


async def test_an_overflow_while_the_database_is_locked_is_handled_without_blocking(
        flow, store, fake_openai):
    """A request the server refuses as too long is planned again (here it can't be made
    smaller, and the send fails); its empty reply row is deleted first, which was written
    on the event loop, held still for as long as another program held the lock."""
    fake_openai.script(Script.context_length_exceeded(limit=1000, prompt=1200))
    conversation = flow.new_conversation()
    events, watch = await send_locked_at(flow, store, conversation.id, "a question",
                                         AssistantStarted)
    assert watch.longest_stall() < 0.3, f"the loop stood still {watch.longest_stall():.2f} s"
    assert isinstance(events[-1], FlowFailed) and events[-1].kind == "context"
    assert [m.role for m in store.load_messages(conversation.id)] == [Role.USER]
