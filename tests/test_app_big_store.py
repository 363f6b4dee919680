"""Big stores (issue 14): the app reads what the screen shows, off the event loop.

Each test bounds what is read or mounted rather than timing it (bench/bench_bigstore.py
times the same paths on a 1,000,000-message store in a real terminal). The stores are bulk
loaded with plain ``executemany``: thousands of rows in milliseconds.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests.test_app_support import SIZE, make_app, make_services, wait_until
from tui.core import ids, store_search
from tui.core.models import Message
from tui.core.store import Store
from tui.ui.chat_pages import MESSAGE_PAGE
from tui.ui.widgets.message_blocks import MessageBlock

BASE_MS = 1_767_225_600_000  # 2026-01-01


def stamp(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def bulk_chats(store: Store, count: int, *, messages: int = 1, start_ms: int = BASE_MS,
               title: str = "Chat {i}") -> list[str]:
    """``count`` chats of ``messages`` (one path each), newest last; returns their ids."""
    conversations, rows, made = [], [], []
    clock = start_ms
    for i in range(count):
        clock += 1
        cid = ids.new_ulid(ms=clock)
        parent = None
        for n in range(messages):
            clock += 1
            mid = ids.new_ulid(ms=clock)
            rows.append((mid, cid, "user" if n % 2 == 0 else "assistant",
                         f"message {n} of {title.format(i=i).lower()}", stamp(clock), parent))
            parent = mid
        conversations.append((cid, title.format(i=i), "gpt-4o-mini", stamp(clock),
                              stamp(clock), parent))
        made.append(cid)
    with store.conn:
        store.conn.executemany(
            "INSERT INTO conversations (id, title, model, created, updated, active_leaf_id) "
            "VALUES (?,?,?,?,?,?)", conversations)
        store.conn.executemany(
            "INSERT INTO messages (id, conversation_id, role, content, created, parent_id) "
            "VALUES (?,?,?,?,?,?)", rows)
    return made


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


class ReadLog:
    """Which threads call a store method, and how many messages its paged calls return
    (the meter plans the next request from the whole path: one read in a thread, ~40 ms
    for 2,000 messages, after the chat is painted)."""

    def __init__(self, store: Store, *names: str) -> None:
        self.threads: list[str] = []
        self.messages = 0
        for name in names:
            original = getattr(store, name, None)
            if original is None:  # a build without it
                continue

            def spy(*args, _original=original, **kwargs):
                self.threads.append(threading.current_thread().name)
                result = _original(*args, **kwargs)
                found = result[0] if isinstance(result, tuple) else result
                if isinstance(found, list) and kwargs.get("limit") is not None:
                    self.messages += sum(isinstance(item, Message) for item in found)
                return result

            setattr(store, name, spy)

    @property
    def on_the_loop(self) -> int:
        return sum(name == threading.main_thread().name for name in self.threads)


async def test_the_sidebar_reads_a_page_at_a_time_off_the_event_loop(services):
    bulk_chats(services.store, 2000)
    log = ReadLog(services.store, "list_conversations")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        await wait_until(pilot, lambda: listing.option_count > 0, what="the first page")
        assert listing.option_count == 50  # a page of 2,000, not 2,000 rows
        listing.focus()
        await pilot.press("end")  # near the end of what is loaded: the next page comes
        await wait_until(pilot, lambda: listing.option_count == 100, what="the next page")
        await pilot.press("alt+down")  # the next chat, read from the loaded rows
        await pilot.pause()
    assert log.threads and log.on_the_loop == 0


SLOW = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200000000) " \
       "SELECT count(*) FROM n"


async def test_a_slow_search_neither_holds_the_store_nor_outlives_a_newer_query(
        services, monkeypatch):
    """While a query runs, another chat opens at once; the next key cancels the query,
    and only the newest query's hits are shown."""
    bulk_chats(services.store, 3, title="Chat {i}")
    (snail,) = bulk_chats(services.store, 1, title="Snail race", start_ms=BASE_MS + 10_000)
    started, ended = threading.Event(), threading.Event()
    outcome: list[str] = []
    real_search = store_search.search_store

    def search(conn: sqlite3.Connection, query: str, **kwargs):
        if query != "snai":
            return real_search(conn, query, **kwargs)
        started.set()
        try:  # tens of seconds unless interrupted
            conn.execute(SLOW).fetchall()
            outcome.append("finished")
        except sqlite3.OperationalError as error:
            outcome.append(str(error))
            raise
        finally:
            ended.set()
        return real_search(conn, query, **kwargs)

    monkeypatch.setattr(store_search, "search_store", search)
    monkeypatch.setattr("tui.core.store.search_store", search)  # where Store.search looks
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        await wait_until(pilot, lambda: listing.option_count == 4, what="the list")
        first = app.main.conversation.id
        await pilot.press("ctrl+f", *"snai")
        await wait_until(pilot, lambda: started.is_set(), what="the slow query")
        await pilot.press("alt+down")  # another chat opens while the query runs
        await wait_until(pilot, lambda: app.main.conversation.id != first
                         and app.main.pane.blocks, what="the next chat")
        assert not ended.is_set()
        await pilot.press("l")  # "snail": the slow query is stale now
        await wait_until(pilot, lambda: ended.is_set(), what="the slow query to stop")
        # "Snail race": its title and its message.
        await wait_until(pilot, lambda: listing.searching and listing.option_count == 2,
                         what="the newest query's hits")
        assert outcome == ["interrupted"]
        assert app.main.sidebar.search_box.value == "snail"
        assert listing.highlighted_id == snail


async def test_a_long_chat_opens_on_a_screenful_and_g_jumps_to_its_first_message(services):
    store = services.store
    (long_chat,) = bulk_chats(store, 1, messages=2000, title="Long")
    bulk_chats(store, 1, messages=3, title="Short", start_ms=BASE_MS - 100_000)
    log = ReadLog(store, "load_messages", "load_messages_forward")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane
        await wait_until(pilot, lambda: pane.blocks, what="the chat")
        assert app.main.conversation.id == long_chat
        opened = len(pane.blocks)
        assert opened <= SIZE[1] // 3 + 2 and log.messages <= SIZE[1] // 3 + 2  # of 2,000
        screenful = app.main.chat_view.screenful()  # the pane is laid out now
        await pilot.press("ctrl+o", "g")
        await wait_until(pilot, lambda: pane.blocks
                         and pane.blocks[0].copy_text() == "message 0 of long",
                         what="the first message")
        await pilot.pause()
        assert app.focused is pane.blocks[0]
        assert pane.scroll_y == 0
        # One page read, not the 40 on the way.
        assert log.messages <= opened + screenful
        assert len(pane.blocks) == screenful and pane.has_newer
        # j past the window's end reads the next page.
        pane.blocks[-1].focus()
        await pilot.press("j")
        await wait_until(pilot, lambda: len(pane.blocks) == screenful + 50,
                         what="the next page")
        assert [b.copy_text() for b in pane.blocks] == [
            f"message {n} of long" for n in range(screenful + 50)]
        # G: the newest page again.
        await pilot.press("G")
        await wait_until(pilot, lambda: pane.blocks[-1].copy_text() == "message 1999 of long",
                         what="the last message")
        assert not pane.has_newer and app.focused is pane.blocks[-1]
        assert app.main.chat_view.newest_message_id() == pane.blocks[-1].sort_key


async def test_a_chat_of_long_replies_opens_on_the_few_that_fill_the_pane(services):
    store = services.store
    (chat,) = bulk_chats(store, 1, messages=200, title="Wordy")
    with store.conn:
        store.conn.execute("UPDATE messages SET content = content || ' ' || ?",
                           ("lorem ipsum " * 40,))  # ~500 characters: several rows each
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane
        await wait_until(pilot, lambda: pane.blocks, what="the chat")
        await pilot.pause()
        assert 2 <= len(pane.blocks) < SIZE[1] // 3  # fewer than a screenful of one-liners
        assert pane.max_scroll_y > 0  # they fill it: scrolling up reaches the older ones
        assert pane.has_older and pane.blocks[-1].copy_text().startswith("message 199 ")


async def test_a_search_hit_deep_in_a_long_chat_opens_a_window_around_it(services):
    store = services.store
    (long_chat,) = bulk_chats(store, 1, messages=2000, title="Long")
    bulk_chats(store, 1, messages=3, title="Short", start_ms=BASE_MS + 100_000)
    hit = store.load_messages(long_chat)[10]
    store.update_message(hit.id, content="the secret ingredient is zanzibar pepper")
    log = ReadLog(store, "load_messages", "load_messages_forward", "load_messages_around")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane
        await wait_until(pilot, lambda: pane.blocks, what="the short chat")
        await pilot.press("ctrl+f", *"zanzibar", "enter")
        await wait_until(pilot, lambda: pane.block(hit.id) is not None, what="the hit")
        assert pane.block(hit.id).has_class("-search-hit")
        assert [b.copy_text() for b in pane.blocks[:3]] == [
            "message 8 of long", "message 9 of long", "the secret ingredient is zanzibar pepper"]
        # A window read forwards from the hit (and maybe a page beside it as the pane
        # scrolls to it), not the 40 pages on the way to it.
        assert log.messages <= 3 * app.main.chat_view.screenful() + MESSAGE_PAGE
        assert pane.has_older and pane.has_newer
        assert app.main.seen().last_message_id == store.load_messages(long_chat, limit=1)[0].id


async def test_sending_from_the_first_page_shows_the_newest(services, fake_openai):
    store = services.store
    (chat,) = bulk_chats(store, 1, messages=300, title="Long")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane
        await wait_until(pilot, lambda: pane.blocks, what="the chat")
        await pilot.press("ctrl+o", "g")
        await wait_until(pilot, lambda: pane.has_newer, what="the first page")
        # What was seen is still the newest message: a send is not refused as "unseen".
        assert app.main.seen().last_message_id == store.load_messages(chat, limit=1)[0].id
        await pilot.press("ctrl+t", *"hello", "enter")
        await wait_until(pilot, lambda: not pane.has_newer and any(
            isinstance(b, MessageBlock) and b.message.content == "hello" for b in pane.blocks),
            what="the sent message with the newest ones")
        await wait_until(pilot, lambda: not app.main.streaming_here, what="the reply")
        assert store.count_messages(chat) == 302


def test_a_page_forwards_reads_only_its_rows(tmp_path):
    with Store(tmp_path / "forward.db") as store:
        (cid,) = bulk_chats(store, 1, messages=120, title="Long")
        first, more = store.load_messages_forward(cid, limit=50)
        assert [m.content for m in first] == [f"message {n} of long" for n in range(50)]
        assert more
        last, more = store.load_messages_forward(cid, limit=50, after_id=first[-1].id)
        assert len(last) == 50 and last[0].content == "message 50 of long" and more
        tail, more = store.load_messages_forward(cid, limit=50, after_id=last[-1].id)
        assert len(tail) == 20 and not more
        # Off the active path (a branch switched meanwhile): nothing, and the caller reloads.
        side = store.append_message(cid, "user", "a branch", parent_id=first[3].id)
        assert store.load_messages_forward(cid, limit=50, after_id=first[10].id) == ([], False)
        assert store.load_messages(cid)[-1].id == side.id

