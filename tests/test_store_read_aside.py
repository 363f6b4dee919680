"""Reads while another thread's store call waits out another program's write lock
(tui/core/store_base.py, ``_reading``): they read through the store's second, query-only
connection instead of waiting behind that call for up to the busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import test_chat_flow
from tests.fake_openai.scripts import Script
from tests.test_locked_writes import LoopWatch, held_by_a_thread, other_program
from tui.core.chat import AssistantFinished, TitleUpdated
from tui.core.models import Role
from tui.core.store import Store
from tui.core.store_base import IN_PROCESS_WAIT
from tui.core.store_errors import StoreError

# The chat flow's fixtures: a store, a token counter, a flow against the test server.
counter, flow, store = test_chat_flow.counter, test_chat_flow.flow, test_chat_flow.store


@pytest.fixture
def opened(tmp_path: Path):
    store = Store(tmp_path / "chat.db")
    yield store
    store.close()


def a_write_waiting_for_another_program(store: Store) -> tuple[threading.Thread,
                                                                sqlite3.Connection]:
    """Another program holds the write lock; a worker thread's write waits it out (the
    busy timeout), the store's lock held. Commit and close the connection to end it."""
    holder = other_program(store.path)
    conversation = store.latest_conversation()
    assert conversation is not None
    worker = threading.Thread(target=store.update_conversation,
                              args=(conversation.id,), kwargs={"title": "renamed"})
    worker.start()
    deadline = time.monotonic() + 5
    while store._lock.acquire(blocking=False):  # until the worker holds it
        store._lock.release()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return worker, holder


def test_a_read_does_not_wait_behind_a_write_waiting_for_another_program(opened):
    conversation = opened.create_conversation(model="m", title="first")
    opened.append_message(conversation.id, Role.USER, "hello")
    worker, holder = a_write_waiting_for_another_program(opened)
    try:
        started = time.monotonic()
        read = opened.get_conversation(conversation.id)
        messages = opened.load_messages(conversation.id)
        took = time.monotonic() - started
    finally:
        holder.execute("COMMIT")
        holder.close()
        worker.join(10)
    # The old store waited for the worker, which waited out the busy timeout (5 s).
    assert took < 1.0, f"the read waited {took:.2f} s"
    assert read.title == "first"  # what was committed: the worker's write is not yet
    assert [m.content for m in messages] == ["hello"]
    assert opened.get_conversation(conversation.id).title == "renamed"


def test_a_read_aside_sees_what_was_committed_not_a_write_in_progress(opened):
    conversation = opened.create_conversation(model="m")
    inside, release = threading.Event(), threading.Event()

    def slow_write(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE conversations SET title = 'pending' WHERE id = ?",
                     (conversation.id,))
        inside.set()
        release.wait(5)

    worker = threading.Thread(target=opened.write, args=(slow_write,))
    worker.start()
    try:
        assert inside.wait(5)
        assert opened.get_conversation(conversation.id).title == ""
    finally:
        release.set()
        worker.join(5)
    assert opened.get_conversation(conversation.id).title == "pending"


def test_a_read_waits_for_another_threads_short_call(opened):
    """A call of a few milliseconds is waited for: the second connection is only for a
    call held past IN_PROCESS_WAIT."""
    conversation = opened.create_conversation(model="m")
    worker = held_by_a_thread(opened, lambda: time.sleep(IN_PROCESS_WAIT / 5))
    opened.get_conversation(conversation.id)
    worker.join(5)
    assert opened._aside is None


@contextmanager
def held_meanwhile(store: Store) -> Iterator[threading.Event]:
    """Another thread's store call holds the store's lock until the block ends (or the
    event it yields is set)."""
    release = threading.Event()
    worker = held_by_a_thread(store, lambda: release.wait(5))
    try:
        yield release
    finally:
        release.set()
        worker.join(5)


def test_reads_behind_one_long_call_wait_once_between_them(opened):
    # The flow reads five or six times on the event loop after a reply; each waited the
    # whole IN_PROCESS_WAIT behind the same worker call (the suite saw the loop still
    # 0.32 s on a slow machine).
    conversation = opened.create_conversation(model="m", title="first")
    with held_meanwhile(opened):
        time.sleep(IN_PROCESS_WAIT)  # the call has held the store that long already
        started = time.monotonic()
        for _ in range(8):
            assert opened.get_conversation(conversation.id).title == "first"
        took = time.monotonic() - started
    # Waiting each time took 8 x IN_PROCESS_WAIT; half that leaves a loaded run its margin.
    assert took < 4 * IN_PROCESS_WAIT, f"eight reads took {took:.3f} s"


def test_the_second_connection_never_writes(opened):
    conversation = opened.create_conversation(model="m")
    with held_meanwhile(opened), pytest.raises(StoreError,
                                               match="readonly|read-only|read only"):
        opened.read(lambda conn: conn.execute(
            "UPDATE conversations SET title = 'x' WHERE id = ?", (conversation.id,)))
    assert opened.get_conversation(conversation.id).title == ""


def test_a_write_inside_a_read_aside_goes_to_the_main_connection(opened):
    conversation = opened.create_conversation(model="m")

    def read_then_write(conn: sqlite3.Connection) -> None:
        assert conn is opened._aside
        opened.update_conversation(conversation.id, title="written")

    with held_meanwhile(opened) as release:
        threading.Timer(0.3, release.set).start()  # the nested write waits for the worker
        opened.read(read_then_write)
    assert opened.get_conversation(conversation.id).title == "written"


def test_closing_closes_both_connections(opened):
    conversation = opened.create_conversation(model="m")
    with held_meanwhile(opened):
        opened.get_conversation(conversation.id)  # opens the second connection
    aside = opened._aside
    assert aside is not None
    opened.close()
    with pytest.raises(sqlite3.ProgrammingError):
        aside.execute("SELECT 1")
    with pytest.raises(StoreError, match="closed"):
        opened.get_conversation(conversation.id)


async def test_the_reads_after_a_reply_do_not_hold_the_loop_behind_a_worker(
        flow, store, fake_openai):
    """After a reply the flow reads on the event loop (is this the first exchange, the
    title before asking for one). A worker thread's call waiting out another program's
    lock (a draft's save, say) made each of them wait as long, the screen frozen."""
    flow.settings.auto_title = True

    def responder(body):
        return None if body.get("stream") else Script.reply('"Rivers"')

    fake_openai.responder = responder
    conversation = flow.new_conversation()
    watch = LoopWatch()
    release = threading.Event()
    worker = None
    events = []
    try:
        async for event in flow.send(conversation.id, "tell me about rivers"):
            events.append(event)
            if isinstance(event, AssistantFinished) and worker is None:
                worker = held_by_a_thread(store, lambda: release.wait(1.0))
    finally:
        watch.stop()
        release.set()
        if worker is not None:
            worker.join(5)
    assert watch.longest_stall() < 0.3, f"the loop stood still {watch.longest_stall():.2f} s"
    assert [e.title for e in events if isinstance(e, TitleUpdated)][-1] == "Rivers"


async def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_window_learned_while_another_program_holds_the_lock(flow, store, fake_openai):
    """A window learned on the event loop (a probe's answer, an overflow error) was written
    there: with another program holding the lock, the loop stood still for the busy timeout
    (5 s), then the window was lost with "database is locked". Now it counts at once and is
    stored once the lock is free."""
    conversation = flow.new_conversation(model="qwen2.5")
    holder = other_program(store.path)
    try:
        started = time.monotonic()
        flow.knowledge.learn_window("qwen2.5", 2048, "server")
        took = time.monotonic() - started
        assert took < 0.5, f"learning the window waited {took:.2f} s"
        assert flow.window_for(conversation) == 2048
        assert store.get_model_window("qwen2.5", fake_openai.base_url) is None
    finally:
        holder.execute("COMMIT")
        holder.close()
    await wait_for(lambda: store.get_model_window("qwen2.5", fake_openai.base_url) == 2048)
    assert flow.window_for(conversation) == 2048


async def test_a_window_forgotten_before_it_was_stored_stays_forgotten(flow, store):
    conversation = flow.new_conversation(model="qwen2.5")
    default = flow.window_for(conversation)
    holder = other_program(store.path)
    try:
        flow.knowledge.learn_window("qwen2.5", 2048, "error")
        assert flow.window_for(conversation) == 2048
        forgetting = asyncio.ensure_future(
            asyncio.to_thread(flow.knowledge.forget_window, "qwen2.5"))
        await wait_for(lambda: flow.window_for(conversation) == default)
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert await forgetting == 0
    await asyncio.sleep(0.5)  # the put-off save's next tries (every RETRY_EVERY) skip it
    assert store.get_model_window("qwen2.5", flow.client.base_url) is None
