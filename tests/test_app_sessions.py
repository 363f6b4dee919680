"""Pilot tests of what a session shares with the database (issue 9 items 1, 4, 6, 14): a new
chat stored only with its first message, ``--model``, a second running copy, drafts."""

from __future__ import annotations

import logging

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import (
    SIZE,
    make_app,
    make_services,
    screen_text,
    seed_conversation,
    wait_until,
)
from tui.core.models import Role
from tui.core.store import Store
from tui.ui import store_watch
from tui.ui.widgets.message_blocks import AssistantBlock, UserBlock


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


def texts(app) -> list[str]:
    return [block.message.content for block in app.main.pane.query(UserBlock)] + [
        block.text for block in app.main.pane.query(AssistantBlock)]


async def send(pilot, text: str) -> None:
    composer = pilot.app.main.composer
    pilot.app.main.set_focus(composer)
    composer.insert(text)
    await pilot.press("enter")


async def test_another_instance_s_messages_show_in_the_open_chat(services, tmp_path):
    chat = seed_conversation(services.store, "Shared", updated="2026-03-01T09:00:00.000Z")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "answer 0" in texts(app), what="the chat")
        with Store(services.store.path) as other:
            other.append_message(chat.id, Role.USER, "from the other window")
            other.append_message(chat.id, Role.ASSISTANT, "its answer", model="gpt-4o-mini")
        # On screen (scrolled to the bottom, where the reader was), and in the list.
        await wait_until(pilot, lambda: "its answer" in screen_text(app), timeout=5,
                         what="the other window's messages")
        assert "from the other window" in screen_text(app)


async def test_a_send_never_carries_messages_the_screen_has_not_shown(services, fake_openai,
                                                                      monkeypatch):
    monkeypatch.setattr(store_watch, "POLL_INTERVAL", 3600)  # the send comes first
    chat = seed_conversation(services.store, "Shared", updated="2026-03-01T09:00:00.000Z")
    fake_openai.script(Script.reply("seen it all"))
    app = make_app(services, )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "answer 0" in texts(app), what="the chat")
        with Store(services.store.path) as other:
            other.append_message(chat.id, Role.USER, "from the other window")
            other.append_message(chat.id, Role.ASSISTANT, "its answer", model="gpt-4o-mini")
        await send(pilot, "from this window")
        # Refused before storing: the chat reloads to show what arrived, the text is kept.
        await wait_until(pilot, lambda: "its answer" in texts(app), what="the reload")
        assert app.main.composer.text == "from this window"
        assert fake_openai.chat_requests() == []
        assert [m.content for m in services.store.load_messages(chat.id)][-1] == "its answer"
        assert any("another window" in n.message for n in app._notifications)
        # Now that it is shown, the same text goes, with everything before it.
        await pilot.press("enter")
        await wait_until(pilot, lambda: "seen it all" in texts(app), what="the reply")
        sent = [m["content"] for m in fake_openai.chat_requests()[-1]["messages"]]
        assert sent[-3:] == ["from the other window", "its answer", "from this window"]
        assert app.main.composer.text == ""


async def test_a_new_chat_is_stored_with_its_first_message_not_before(services, fake_openai):
    fake_openai.script(Script.reply("hi there"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.new_chat is not None, what="a new chat")
        await pilot.press("ctrl+n")
        # The system prompt and the strategy of the unsaved chat: kept in its spec.
        await app.main.action_edit_system_prompt()
        await wait_until(pilot, lambda: app.screen is not app.main
                         and app.screen.query("TextArea"), what="the editor")
        app.screen.query_one("TextArea").insert("be brief")
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.main.new_chat.system_prompt == "be brief")
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.main.new_chat.strategy.value == "truncate")
        await pilot.pause()
        assert services.store.count_conversations() == 0
        assert app.main.conversation_list.option_count == 0
        await send(pilot, "hello")
        await wait_until(pilot, lambda: "hi there" in texts(app), what="the reply")
        [stored] = services.store.list_conversations()
        assert app.main.conversation.id == stored.id and app.main.new_chat is None
        assert (stored.system_prompt, stored.strategy.value) == ("be brief", "truncate")
        assert [m.content for m in services.store.load_messages(stored.id)] == [
            "hello", "hi there"]
        assert fake_openai.chat_requests()[0]["messages"][0] == {
            "role": "system", "content": "be brief"}
        await wait_until(pilot, lambda: app.main.conversation_list.highlighted_id == stored.id,
                         what="the list shows it")


async def test_model_flag_starts_a_new_chat_with_that_model(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url, model="llama3.1:8b")
    seed_conversation(services.store, "Older", updated="2026-03-01T09:00:00.000Z")
    fake_openai.script(Script.reply("one"), Script.reply("two"))
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            model = app.main.status.query_one("#status-model")
            await wait_until(pilot, lambda: "llama3.1:8b" in str(model.render()),
                             what="the flag's model in the status line")
            assert app.main.conversation is None  # not the older chat with gpt-4o-mini
            await send(pilot, "first")
            await wait_until(pilot, lambda: "one" in texts(app), what="the first reply")
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: app.main.new_chat is not None)
            await send(pilot, "second")
            await wait_until(pilot, lambda: "two" in texts(app), what="the second reply")
            assert [r["model"] for r in fake_openai.chat_requests()] == ["llama3.1:8b"] * 2
            assert services.store.count_conversations() == 3
    finally:
        await services.aclose()


async def test_the_model_picker_can_make_its_pick_the_default(services, fake_openai, tmp_path):
    from tui.core.config import load_settings
    from tui.ui.screens.model_picker import ModelPickerScreen

    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.new_chat is not None)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        options = app.screen.query_one("#model-list")
        await wait_until(pilot, lambda: options.option_count == len(fake_openai.models))
        await pilot.press(*"4.1", "ctrl+d", "enter")
        await wait_until(pilot, lambda: services.settings.model == "gpt-4.1",
                         what="the new default")
        assert app.main.new_chat.model == "gpt-4.1"
        assert load_settings().model == "gpt-4.1"  # saved: later sessions use it too
        await send(pilot, "hello")
        await wait_until(pilot, lambda: app.main.conversation is not None)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.main.new_chat is not None)
        assert app.main.new_chat.model == "gpt-4.1"
    assert services.store.count_conversations() == 1


async def test_drafts_survive_a_restart_per_conversation(tmp_path, fake_openai):
    def open_app():
        services = make_services(tmp_path, fake_openai.base_url)
        return services, make_app(services)

    services, app = open_app()
    one = seed_conversation(services.store, "One", updated="2026-03-02T09:00:00.000Z")
    two = seed_conversation(services.store, "Two", updated="2026-03-01T09:00:00.000Z")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.is_open(one.id))
        app.main.composer.insert("draft for one")
        await app.main.open_conversation(two.id)
        assert app.main.composer.text == ""
        app.main.composer.insert("draft for two")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.main.new_chat is not None)
        app.main.composer.insert("draft for a new chat")
        await pilot.pause()
    await services.aclose()  # quitting keeps the draft being typed

    services, app = open_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.composer.text == "draft for one",
                             what="the first chat's draft")
            await app.main.open_conversation(two.id)
            assert app.main.composer.text == "draft for two"
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: app.main.composer.text == "draft for a new chat",
                             what="the new chat's draft")
            # Sent, the draft is spent: nothing comes back on the next start.
            fake_openai.script(Script.reply("noted"))
            await pilot.press("enter")
            await wait_until(pilot, lambda: "noted" in texts(app), what="the reply")
            await app.main.open_conversation(one.id)
            await app.workers.wait_for_complete()
        assert services.store.get_draft(None) == ""
        assert services.store.get_draft(one.id) == "draft for one"
    finally:
        await services.aclose()


async def test_a_reader_scrolled_up_keeps_the_place_when_another_window_writes(services):
    chat = seed_conversation(services.store, "Long", updated="2026-03-01T09:00:00.000Z",
                             turns=20)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane
        await wait_until(pilot, lambda: pane.max_scroll_y > 0, what="a scrolling chat")
        pane.scroll_home(animate=False, immediate=True)  # the older messages load above
        await wait_until(pilot, lambda: not pane.has_older, what="the whole chat")
        await pilot.pause()
        pane.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        with Store(services.store.path) as other:
            other.append_message(chat.id, Role.USER, "late arrival")
        await wait_until(pilot, lambda: "late arrival" in texts(app), what="the reload")
        await pilot.pause()
        assert pane.scroll_y < pane.max_scroll_y / 2  # still near the top, where it was


async def test_the_sent_text_is_cleared_even_when_the_stream_is_already_over(services):
    """A fast reply can finish (and its stream be forgotten) before the screen handles
    UserMessageStored: the message itself says what was sent."""
    from tui.ui import flow_messages as fm
    from tui.ui.reply_streams import LiveStream

    chat = seed_conversation(services.store, "Fast", updated="2026-03-01T09:00:00.000Z")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.is_open(chat.id))
        app.main.composer.insert("quick one")
        stored = services.store.append_message(chat.id, Role.USER, "quick one")
        message = fm.UserMessageStored(chat.id, stored)
        LiveStream(chat.id, sent_text="quick one").observe(message)  # as the worker does
        assert chat.id not in app.main.streams
        app.main.chat_view.post_message(message)
        await wait_until(pilot, lambda: app.main.composer.text == "", what="cleared")


async def test_an_idle_app_asks_sqlite_only_when_the_files_changed(services, monkeypatch):
    """Each second the watcher looks at the files' times and sizes; the check in a thread
    (most of an idle app's CPU) runs only when they changed, or every FULL_CHECK_EVERY."""
    monkeypatch.setattr(store_watch, "POLL_INTERVAL", 3600)  # ticks by hand below
    chat = seed_conversation(services.store, "Quiet", updated="2026-03-01T09:00:00.000Z")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "answer 0" in texts(app), what="the chat")
        watcher = app.main.watcher
        checks = 0
        original = services.store.changed_elsewhere

        def counted() -> bool:
            nonlocal checks
            checks += 1
            return original()

        monkeypatch.setattr(services.store, "changed_elsewhere", counted)

        async def tick() -> None:
            watcher._tick()
            if watcher._task is not None:
                await watcher._task

        await tick()  # the first look takes the reference point
        checks = 0
        for _ in range(store_watch.FULL_CHECK_EVERY - 1):
            await tick()
        assert checks == 0
        await tick()
        assert checks == 1  # now and then anyway
        with Store(services.store.path) as other:
            other.append_message(chat.id, Role.USER, "from the other window")
        await tick()
        assert checks == 2
        await wait_until(pilot, lambda: "from the other window" in texts(app),
                         what="the other window's message")


async def test_a_draft_replaced_before_it_was_saved_does_not_come_back(tmp_path, fake_openai):
    """Typed and paused on (saved), then cleared and replaced by the message sent, all
    within the save's debounce: the saved draft stayed in the store, came back in the next
    new chat and joined what was typed there ("warm upTell me everything.")."""
    services = make_services(tmp_path, fake_openai.base_url)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.new_chat is not None)
            app.main.composer.insert("warm up")
            await pilot.pause()
            await app.main.drafts.flush()  # the pause saved it
            assert services.store.get_draft(None) == "warm up"
            app.main.composer.clear()
            app.main.composer.insert("the real question")
            fake_openai.script(Script.reply("an answer"))
            await pilot.press("enter")
            await wait_until(pilot, lambda: "an answer" in texts(app), what="the reply")
            await app.workers.wait_for_complete()
            assert services.store.get_draft(None) == ""
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: app.main.new_chat is not None)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.main.composer.text == ""
    finally:
        await services.aclose()


async def test_a_reply_whose_window_was_killed_stops_streaming_here(services, monkeypatch):
    """Another window was streaming a reply into the open chat when its program was killed
    (no status stored after): this window shows it interrupted, with its text, within a
    full check of the watcher, not "streaming…" until it restarts."""
    import subprocess
    import sys

    from tui.core.models import MessageStatus

    monkeypatch.setattr(store_watch, "POLL_INTERVAL", 3600)  # ticks by hand below
    chat = seed_conversation(services.store, "Shared", updated="2026-03-01T09:00:00.000Z")
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; sys.stdin.readline()"],
        stdin=subprocess.PIPE)
    reply = services.store.append_message(chat.id, Role.ASSISTANT, "half a story",
                                          status=MessageStatus.STREAMING)
    # Recorded as the other program's: this process is alive, as the test runs.
    services.store.write(lambda conn: conn.execute(
        "UPDATE reply_writers SET pid = ?, started = NULL", (writer.pid,)))
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "half a story" in texts(app), what="the chat")
            assert "streaming…" in screen_text(app)
            watcher = app.main.watcher

            async def tick() -> None:
                watcher._tick()
                if watcher._task is not None:
                    await watcher._task

            for _ in range(store_watch.FULL_CHECK_EVERY + 1):
                await tick()
            assert services.store.get_message(reply.id).status is MessageStatus.STREAMING
            writer.kill()
            writer.wait()
            for _ in range(store_watch.FULL_CHECK_EVERY + 1):
                await tick()
            assert services.store.get_message(reply.id).status is MessageStatus.INTERRUPTED
            await wait_until(pilot, lambda: "interrupted" in screen_text(app),
                             what="the reply shown interrupted")
            assert "streaming…" not in screen_text(app)
            assert "half a story" in texts(app)
    finally:
        writer.kill()
        writer.wait()


async def test_text_typed_while_the_app_starts_joins_the_opened_chat_s_draft(services):
    """Until the first chat is open the composer stands for no chat: what is typed then is
    not saved as the new chat's draft, and it is kept after the opened chat's own draft."""
    chat = seed_conversation(services.store, "Drafted", updated="2026-03-01T09:00:00.000Z")
    services.store.set_draft(chat.id, "the saved draft")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.composer.text == "the saved draft",
                         what="the chat's draft")
        drafts = app.main.drafts
        drafts.starting = True  # as before the first chat opened
        app.main.composer.load_text("typed early")
        drafts.changed(None, "typed early")
        assert drafts._pending is None, "nothing saved for the new chat meanwhile"
        drafts.show(chat.id, ("the saved draft", {}))
        drafts.starting = False
        assert app.main.composer.text == "the saved draft\ntyped early"
        await pilot.pause()
        await drafts.flush()
        assert services.store.get_draft(chat.id) == "the saved draft\ntyped early"
        assert services.store.get_draft(None) in ("", None)


async def test_a_check_the_quit_overtakes_logs_no_error(services, caplog):
    """A check in its thread when the app quit met the closed database and logged a
    traceback at ERROR (seen in bench_app's logs): nothing failed, the app was quitting."""
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        watcher = app.main.watcher
        services.store.close()
        with caplog.at_level(logging.DEBUG, logger="tui.ui.store_watch"):
            watcher._busy = True
            await watcher._check()
        assert not watcher._busy
        assert [r.levelname for r in caplog.records if r.name == "tui.ui.store_watch"] == [
            "DEBUG"]
