"""Pilot tests of the sidebar: paging, search and jump, rename, delete, pin, archive."""

from __future__ import annotations

import pytest

from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.models import Role
from tui.ui.app import GptTuiApp
from tui.ui.screens.dialogs import ConfirmScreen, RenameScreen
from tui.ui.widgets.message_blocks import UserBlock


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


def seed(store, count: int, *, messages: int = 1) -> list:
    made = []
    for i in range(count):
        conversation = store.create_conversation(model="gpt-4o-mini", title=f"Chat {i:03d}")
        for j in range(messages):
            store.append_message(conversation.id, Role.USER, f"chat {i} message {j}")
        store.update_conversation(conversation.id,
                                  updated=f"2026-03-01T{i // 60:02d}:{i % 60:02d}:00.000Z")
        made.append(conversation)
    return made


async def test_list_loads_a_page_at_a_time(services):
    seed(services.store, 130)
    app = make_app(services, conversation_page=50)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        assert listing.option_count == 50
        listing.focus()
        await pilot.press("end")  # to the last loaded row: the next page comes in
        await wait_until(pilot, lambda: listing.option_count == 100)
        await pilot.press("end")
        await wait_until(pilot, lambda: listing.option_count == 130)
        await pilot.press("end")
        await pilot.pause()
        assert listing.option_count == 130


async def test_a_change_saved_as_the_app_quits_leaves_the_going_list_alone(services):
    # As the app quits, Textual removes the sidebar's children before the sidebar: a system
    # prompt saved just before refreshed the rows of a list already gone, and the app
    # stopped on NoMatches (a fresh-clone CI run).
    seed(services.store, 3)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.main.sidebar
        await sidebar.conversation_list.remove()
        await pilot.pause()
        sidebar.refresh_rows()
        await pilot.pause()
        assert app.return_code is None and app.is_running


async def test_next_and_previous_chat_follow_the_list(services):
    made = seed(services.store, 3)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        newest_first = [c.id for c in reversed(made)]
        assert app.main.conversation.id == newest_first[0]
        await pilot.press("alt+down")
        await wait_until(pilot, lambda: app.main.conversation.id == newest_first[1])
        await pilot.press("ctrl+pagedown")
        await wait_until(pilot, lambda: app.main.conversation.id == newest_first[2])
        await pilot.press("alt+up")
        await wait_until(pilot, lambda: app.main.conversation.id == newest_first[1])
        listing = app.main.conversation_list
        assert listing.highlighted_id == newest_first[1]


async def test_new_chat(services):
    seed(services.store, 2)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        before = services.store.count_conversations()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.main.new_chat is not None)
        assert app.main.conversation is None
        assert not app.main.pane.query(UserBlock)
        assert app.focused is app.main.composer
        # Nothing is stored until the first message (issue 9 item 14), however often
        # ctrl+n is pressed.
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert services.store.count_conversations() == before


async def test_a_new_chat_once_sent_is_the_highlighted_row(services, fake_openai):
    """After Ctrl+N and a first send, the new chat was open (bold) but the highlight stayed
    on the chat open before, so `d` in the list offered to delete that one."""
    from tests.fake_openai.scripts import Script

    made = seed(services.store, 3)
    fake_openai.script(Script.reply("hello back"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        await app.main.open_conversation(made[1].id)
        await wait_until(pilot, lambda: listing.highlighted_id == made[1].id)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.main.new_chat is not None)
        app.main.composer.insert("Fourth chat")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main.conversation is not None
                         and not app.main.streams, what="the new chat stored")
        new_id = app.main.conversation.id
        await wait_until(pilot, lambda: listing.highlighted_id == new_id,
                         what=f"the highlight on the new chat (it is on "
                              f"{listing.highlighted_id})")

async def test_search_by_content_and_jump_to_the_message(services):
    store = services.store
    seed(store, 5, messages=3)
    target = store.create_conversation(model="gpt-4o-mini", title="Cooking notes")
    for j in range(70):
        store.append_message(target.id, Role.USER, f"filler line {j}")
    hit = store.append_message(target.id, Role.USER, "the secret ingredient is zanzibar pepper")
    for j in range(60):
        store.append_message(target.id, Role.USER, f"more filler {j}")
    store.update_conversation(target.id, updated="2026-01-01T00:00:00.000Z")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        assert app.main.conversation.id != target.id
        await pilot.press("ctrl+f")
        assert app.focused is app.main.sidebar.search_box
        await pilot.press(*"zanzibar")
        listing = app.main.conversation_list
        await wait_until(pilot, lambda: listing.searching and listing.option_count == 1,
                         what="search hits")
        await pilot.pause()
        text = screen_text(app)
        assert "Cooking notes" in text and "zanzibar" in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main.conversation
                         and app.main.conversation.id == target.id)
        block = app.main.pane.block(hit.id)
        assert block is not None and block.has_class("-search-hit")
        await pilot.pause()
        assert "zanzibar pepper" in screen_text(app)


async def test_search_is_debounced_and_escape_restores_the_list(services):
    seed(services.store, 3)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        calls = []
        # Longer than Pilot takes per key on a busy machine: the keys are one burst.
        app.main.sidebar.search_debounce = 0.5
        searcher = app.main.sidebar.searcher
        original = searcher.search
        searcher.search = lambda *a, **k: calls.append(a) or original(*a, **k)
        await pilot.press("ctrl+f", *"chat 1")
        listing = app.main.conversation_list
        await wait_until(pilot, lambda: listing.searching)
        await app.workers.wait_for_complete()
        assert len(calls) == 1 and calls[0][0] == "chat 1"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not listing.searching and listing.option_count == 3)


async def test_escape_in_the_hits_clears_the_search(services):
    """Down into the hits, Esc did nothing: the hits stayed until Ctrl+F and Esc."""
    seed(services.store, 3)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        await pilot.press("ctrl+f", *"chat 1")
        await wait_until(pilot, lambda: listing.searching, what="search hits")
        await pilot.press("down")
        assert app.focused is listing
        await pilot.press("escape")
        await wait_until(pilot, lambda: not listing.searching and listing.option_count == 3,
                         what="the list back")
        assert app.main.sidebar.search_box.value == ""
        assert app.focused is listing

async def test_rename_through_the_modal(services):
    made = seed(services.store, 1)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen))
        field = app.screen.query_one("#rename-input")
        field.value = ""
        await pilot.press(*"[bold]Renamed", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, RenameScreen))
        assert services.store.get_conversation(made[0].id).title == "[bold]Renamed"
        await pilot.pause()
        assert "[bold]Renamed" in screen_text(app)  # shown literally, brackets and all


async def test_delete_asks_first(services):
    made = seed(services.store, 2)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        current = app.main.conversation.id
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert services.store.count_conversations() == 2
        app.main.conversation_list.focus()
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: services.store.count_conversations() == 1)
        remaining = services.store.list_conversations()[0].id
        assert remaining != current
        await wait_until(pilot, lambda: app.main.conversation
                         and app.main.conversation.id == remaining)
        assert app.main.conversation_list.option_count == 1
        assert {c.id for c in made} - {current} == {remaining}


async def test_pin_moves_to_the_top(services):
    made = seed(services.store, 3)
    oldest = made[0]
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        listing.focus()
        await pilot.press("j", "j")
        assert listing.highlighted_id == oldest.id
        await pilot.press("p")
        await pilot.pause()
        assert services.store.get_conversation(oldest.id).pinned
        assert listing.conversations[0].id == oldest.id
        await pilot.pause()
        assert "★ Chat 000" in screen_text(app)


async def test_archive_and_show_archived(services):
    made = seed(services.store, 2)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        listing.focus()
        target = listing.highlighted_id
        await pilot.press("a")
        await pilot.pause()
        assert services.store.get_conversation(target).archived
        assert [c.id for c in listing.conversations] == [
            c.id for c in made if c.id != target]
        footer = lambda: screen_text(app).splitlines()[-1]  # noqa: E731
        assert "a Archive" in footer() and "A Show archived" in footer()
        await pilot.press("A")  # shift+a: list the archived ones
        await pilot.pause()
        assert [c.id for c in listing.conversations] == [target]
        assert "Archived conversations" in screen_text(app)
        # The keys say what they do here (they said "Archive" and "Show archived").
        await wait_until(pilot, lambda: "a Unarchive" in footer(), what=footer())
        assert "A Show chats" in footer() and "Show archived" not in footer()
        await pilot.press("a")  # unarchive
        await pilot.pause()
        assert not services.store.get_conversation(target).archived
        await pilot.press("A")
        await wait_until(pilot, lambda: "a Archive" in footer(), what=footer())
        assert "A Show archived" in footer()


WIDE_TITLES = [
    "👩‍👩‍👧‍👦 family trip planning with everyone",
    "🇯🇵🇫🇷🇩🇪 flags and more flags to wrap",
    "東京への旅行の計画について話し合う長いタイトルです",
    "mixed 東京 👍🏽 ❤️ 🏳️‍🌈 1️⃣ text here and more",
]


async def test_wide_characters_never_move_the_sidebar_border(services):
    """Each character's width adds up to the row's: a terminal that measures per character
    (tmux) and one that measures per cluster both put the border where the layout did."""
    from rich.cells import get_character_cell_size

    for i, title in enumerate(WIDE_TITLES):
        services.store.create_conversation(model="gpt-4o-mini", title=title)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        await wait_until(pilot, lambda: listing.option_count == len(WIDE_TITLES))
        await pilot.pause()
        border = app.main.sidebar.region.right - 1
        rows = [strip.text for strip in app.screen._compositor.render_strips()]
        sidebar_rows = rows[listing.region.y:listing.region.bottom]
        assert any("東京" in row for row in sidebar_rows)
        for row in sidebar_rows:
            index = row.index("▕")
            assert sum(get_character_cell_size(c) for c in row[:index]) == border, row


async def test_rows_read_while_the_app_closes_are_dropped(services):
    # The rows are read in a thread; at exit the list can be gone before they arrive (it
    # failed the exit with NoMatches, now and then, in a full test run).
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.main.sidebar
        rows = services.store.list_conversations(limit=5, offset=0, archived=False)
        await sidebar.conversation_list.remove()
        sidebar._show_rows(rows, 5, False)  # what the worker's callback does: no error
        await pilot.pause()


async def test_the_rows_times_move_on_while_the_app_stays_open(services):
    # "just now" stayed "just now" for as long as the app was open.
    import time
    from datetime import datetime, timedelta, timezone

    updated = datetime(2026, 3, 2, 11, 0, 0, tzinfo=timezone.utc)
    services.store.create_conversation(model="gpt-4o-mini", title="Fresh one")
    [conversation] = services.store.list_conversations()
    services.store.update_conversation(conversation.id, updated="2026-03-02T11:00:00.000Z")
    started: list[float] = []

    def clock() -> datetime:
        """59.2 s after the chat changed until the row has shown "just now", then running:
        a loaded run took longer than the 0.8 s left to draw the list at all."""
        running = time.monotonic() - started[0] if started else 0.0
        return updated + timedelta(seconds=59.2 + running)

    app = GptTuiApp(services, now=clock)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.main.conversation_list
        await wait_until(pilot, lambda: "just now" in screen_text(app))
        started.append(time.monotonic())
        await wait_until(pilot, lambda: "1m ago" in screen_text(app), timeout=4,
                         what="the row's time to move on")
        assert listing._retime_timer is not None  # and the next minute is scheduled
