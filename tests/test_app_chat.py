"""Pilot tests of the chat flow in the app, against the real test server and a real DB."""

from __future__ import annotations

import pytest

from tests.fake_openai.scripts import Script
from tests.fake_openai.summaries import is_summary_request
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.models import MessageStatus, Role, Strategy
from tui.ui.widgets.message_blocks import AssistantBlock, ErrorBlock, SummaryBlock, UserBlock


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


def assistant_blocks(app):
    return list(app.main.pane.query(AssistantBlock))


async def type_and_send(pilot, text: str) -> None:
    composer = pilot.app.main.composer
    composer.focus()
    composer.insert(text)
    await pilot.press("enter")


async def test_send_streams_token_by_token_and_stores_the_reply(services, fake_openai):
    fake_openai.script(Script.reply("alpha beta gamma delta epsilon", hold_after=2))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello there")
        await wait_until(pilot, lambda: fake_openai.holding.is_set() and assistant_blocks(app)
                         and assistant_blocks(app)[-1].text, what="first tokens")
        partial = assistant_blocks(app)[-1].text
        assert partial and "epsilon" not in partial  # on screen before the reply is done
        assert "streaming" in str(app.main.status.query_one("#status-state").render())
        assert app.main.composer.text == ""  # cleared once the user message was stored
        fake_openai.release()
        await wait_until(pilot, lambda: not app.main.streams, what="end of stream")
        assert assistant_blocks(app)[-1].text == "alpha beta gamma delta epsilon"
        conversation = app.main.conversation
        stored = services.store.load_messages(conversation.id)
        assert [(m.role, m.content) for m in stored] == [
            (Role.USER, "hello there"), (Role.ASSISTANT, "alpha beta gamma delta epsilon")]
        assert stored[-1].status == MessageStatus.COMPLETE
        assert conversation.title  # a new chat was created and titled from the text
        await pilot.pause()
        assert "alpha beta gamma delta epsilon" in screen_text(app)


async def test_escape_cancels_and_keeps_the_partial_reply(services, fake_openai):
    fake_openai.script(Script.reply("one two three four five six", hold_after=3))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "count")
        await wait_until(pilot, lambda: fake_openai.holding.is_set()
                         and assistant_blocks(app) and assistant_blocks(app)[-1].text)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.main.streams, what="cancel")
        stored = services.store.load_messages(app.main.conversation.id)[-1]
        assert stored.status == MessageStatus.INTERRUPTED
        assert stored.content and "six" not in stored.content
        await wait_until(pilot, lambda: "interrupted" in screen_text(app))
        assert fake_openai.client_disconnected.wait(5)


async def test_the_meter_counts_a_stopped_reply(services, fake_openai):
    # After Esc the meter kept the count from before the reply, where the preview (F6) and
    # the next request carry the partial reply too.
    words = " ".join(f"word{i}" for i in range(400))
    fake_openai.script(Script.reply(words, hold_after=300))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "count")
        await wait_until(pilot, lambda: fake_openai.holding.is_set()
                         and assistant_blocks(app) and assistant_blocks(app)[-1].text)
        before = app.main.status.reading.tokens
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.main.streams, what="cancel")
        conversation = services.store.get_conversation(app.main.conversation.id)
        expected = services.context_for(conversation).meter.reading("").tokens
        assert expected > before + 200
        await wait_until(pilot, lambda: app.main.status.reading.tokens == expected,
                         what=f"the meter at {expected} (it reads "
                              f"{app.main.status.reading.tokens})")


async def test_regenerate_replaces_the_last_reply(services, fake_openai):
    fake_openai.script(Script.reply("first answer"), Script.reply("second answer"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "question")
        await wait_until(pilot, lambda: assistant_blocks(app)
                         and assistant_blocks(app)[-1].text == "first answer")
        await wait_until(pilot, lambda: not app.main.streams)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.main.streams and len(
            fake_openai.chat_requests()) == 2, what="regenerated reply")
        await wait_until(pilot, lambda: [b.text for b in assistant_blocks(app)]
                         == ["second answer"], what="old reply gone")
        stored = services.store.load_messages(app.main.conversation.id)
        assert [m.content for m in stored] == ["question", "second answer"]
        assert len(app.main.pane.query(UserBlock)) == 1


async def test_after_a_regenerate_the_meter_counts_only_the_new_reply(services, fake_openai):
    """The meter appended the regenerated reply to the path it held, the replaced reply
    still in it: 1.6k where the request (F6) held 816, until the chat was opened again."""
    long_answer = "word " * 300
    fake_openai.script(Script.reply(long_answer), Script.reply(long_answer))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "question")
        await wait_until(pilot, lambda: app.main.conversation is not None and len(
            services.store.load_messages(app.main.conversation.id)) == 2
            and not app.main.streams, what="the first reply")
        conversation = app.main.conversation
        expected = services.context_for(conversation).meter.reading("").tokens
        await wait_until(pilot, lambda: app.main.status.reading.tokens == expected,
                         what="the meter after the first reply")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.main.streams and len(
            fake_openai.chat_requests()) == 2, what="regenerated reply")
        await wait_until(pilot, lambda: len(services.store.load_messages(conversation.id))
                         == 2, what="the old reply gone from the path")
        await wait_until(pilot, lambda: app.main.status.reading.tokens == expected,
                         what=f"the meter at {expected} (it reads "
                              f"{app.main.status.reading.tokens})")

async def test_switching_chats_mid_stream_keeps_it_going(services, fake_openai):
    store = services.store
    other = store.create_conversation(model="gpt-4o-mini", title="Other chat")
    store.append_message(other.id, Role.USER, "older question")
    fake_openai.script(Script.reply("streamed in the background fine", hold_after=2))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await type_and_send(pilot, "tell me")
        await wait_until(pilot, lambda: app.main.conversation is not None
                         and app.main.conversation.id != other.id)
        first = app.main.conversation.id
        await wait_until(pilot, lambda: fake_openai.holding.is_set()
                         and assistant_blocks(app) and assistant_blocks(app)[-1].text)
        # Away to the other chat while the reply is held mid-stream.
        await app.main.open_conversation(other.id)
        await pilot.pause()
        assert [b.message.content for b in app.main.pane.query(UserBlock)] == ["older question"]
        assert not assistant_blocks(app)
        assert first in app.main.streams
        # Back again while still streaming: the partial text is there and keeps growing.
        await app.main.open_conversation(first)
        await pilot.pause()
        partial = assistant_blocks(app)[-1].text
        assert partial and partial != "streamed in the background fine"
        fake_openai.release()
        await wait_until(pilot, lambda: first not in app.main.streams)
        await wait_until(pilot, lambda: assistant_blocks(app)[-1].text
                         == "streamed in the background fine")
        # And once more away and back: reloaded from the database.
        await app.main.open_conversation(other.id)
        fake_openai.script(Script.reply("x"))
        await app.main.open_conversation(first)
        await pilot.pause()
        assert assistant_blocks(app)[-1].text == "streamed in the background fine"
        assert store.load_messages(first)[-1].status == MessageStatus.COMPLETE


async def test_background_stream_finishes_while_another_chat_is_shown(services, fake_openai):
    store = services.store
    other = store.create_conversation(model="gpt-4o-mini", title="Quiet chat")
    store.append_message(other.id, Role.USER, "a quiet question")
    fake_openai.script(Script.reply("done in the background", hold_after=1))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await type_and_send(pilot, "go")
        await wait_until(pilot, lambda: app.main.conversation is not None)
        first = app.main.conversation.id
        await wait_until(pilot, lambda: fake_openai.holding.is_set())
        await pilot.press("alt+down")  # next chat, from the composer
        await wait_until(pilot, lambda: app.main.conversation.id == other.id)
        fake_openai.release()
        await wait_until(pilot, lambda: not app.main.streams)
        assert not assistant_blocks(app)  # nothing leaked into the chat on screen
        assert store.load_messages(first)[-1].content == "done in the background"
        await pilot.press("alt+up")
        await wait_until(pilot, lambda: app.main.conversation.id == first)
        await wait_until(pilot, lambda: assistant_blocks(app)
                         and assistant_blocks(app)[-1].text == "done in the background")


async def test_server_error_is_shown_inline_and_retry_recovers(services, fake_openai):
    fake_openai.script(Script.server_error(500), Script.reply("recovered"))
    services.client.max_retries = 0  # fail at once instead of backing off
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "please answer")
        await wait_until(pilot, lambda: app.main.pane.query(ErrorBlock), timeout=15,
                         what="error block")
        await wait_until(pilot, lambda: not app.main.streams)
        error = app.main.pane.query_one(ErrorBlock)
        assert "500" in error.error or "server" in error.error.lower()
        await pilot.pause()
        assert "ctrl+r" in screen_text(app)
        # The user's text is safe in the store; the draft box is free for the next message.
        stored = services.store.load_messages(app.main.conversation.id)
        assert stored[0].content == "please answer"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: assistant_blocks(app)
                         and assistant_blocks(app)[-1].text == "recovered", timeout=10)
        await wait_until(pilot, lambda: not app.main.pane.query(ErrorBlock))
        stored = services.store.load_messages(app.main.conversation.id)
        assert [m.content for m in stored] == ["please answer", "recovered"]


async def test_failed_send_keeps_the_draft(services, fake_openai):
    services.store.create_conversation(model="gpt-4o-mini", title="Going away")
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.main.conversation is not None)
        # The conversation vanishes underneath (another process deleted it): the send
        # fails before anything is stored, so the text must stay in the composer.
        services.store.delete_conversation(app.main.conversation.id)
        await type_and_send(pilot, "my precious draft")
        await wait_until(pilot, lambda: app.main.pane.query(ErrorBlock), what="error")
        assert app.main.composer.text == "my precious draft"
        # Whitespace only: refused by the core, nothing lost either.
        app.main.composer.clear()
        await type_and_send(pilot, "   ")
        await wait_until(pilot, lambda: not app.main.streams)
        assert app.main.composer.text == "   "
        assert fake_openai.chat_requests() == []


async def test_sending_while_streaming_is_refused_and_the_draft_kept(services, fake_openai):
    fake_openai.script(Script.reply("slow reply here", hold_after=1))
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "first")
        await wait_until(pilot, lambda: fake_openai.holding.is_set())
        await type_and_send(pilot, "second draft")
        await pilot.pause()
        assert app.main.composer.text == "second draft"
        assert any("still streaming" in n.message for n in app._notifications)
        fake_openai.release()
        await wait_until(pilot, lambda: not app.main.streams)
        assert len(fake_openai.chat_requests()) == 1


def summarizing_chat(services, fake_openai):
    """A summarizing chat of 20 messages in a 1,024-token window (the test server's too):
    its next send summarizes the older ones first."""
    store = services.store
    conversation = services.flow.new_conversation()
    store.update_conversation(conversation.id, title="Long talk", strategy=Strategy.SUMMARIZE,
                              context_window=1024, max_output_tokens=128)
    for i in range(10):
        store.append_message(conversation.id, Role.USER, f"question {i} " + "tell me more " * 20)
        store.append_message(conversation.id, Role.ASSISTANT, f"answer {i} " + "lorem ipsum " * 20)
    fake_openai.context_window = 1024
    return conversation


async def test_summary_block_appears_when_the_window_fills(services, fake_openai):
    store = services.store
    conversation = summarizing_chat(services, fake_openai)
    # A real summary: shorter than what it replaces (an echo of the request is rejected).
    fake_openai.summary_replies = ["short"]
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.conversation is not None)
        assert app.main.conversation.id == conversation.id
        await type_and_send(pilot, "and one more thing")
        await wait_until(pilot, lambda: app.main.pane.query(SummaryBlock), timeout=10,
                         what="summary block")
        await wait_until(pilot, lambda: not app.main.streams)
        block = app.main.pane.query_one(SummaryBlock)
        summary = store.latest_summary(conversation.id)
        assert summary is not None and block.summary.id == summary.id
        expected = f"Summary of {summary.covered_count} earlier messages"
        app.main.pane.anchor(False)
        app.main.pane.scroll_to_widget(block, animate=False, immediate=True)
        await wait_until(pilot, lambda: expected in screen_text(app), what="summary on screen")
        # Placed right after the last message it covers.
        keys = [b.sort_key for b in app.main.pane.blocks]
        index = keys.index(block.sort_key)
        assert keys[index - 1] == summary.last_message_id


async def test_escape_while_older_messages_are_summarized_says_nothing_was_asked(
        services, fake_openai):
    """Esc while the app summarizes (a slow local model can take long over it) stops the
    send before the reply's request: the notice said "what arrived is kept" of a reply that
    never began. It now says so, and that Ctrl+R sends the message again."""
    store = services.store
    conversation = summarizing_chat(services, fake_openai)
    fake_openai.responder = lambda body: (Script(text="short", first_byte_delay=60)
                                          if is_summary_request(body) else None)
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.main.conversation is not None)
        await type_and_send(pilot, "and one more thing")
        await wait_until(pilot, lambda: any(is_summary_request(body)
                                            for body in fake_openai.chat_requests()),
                         what="the summary asked")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.main.streams, what="stopped")
        notices = [n.message for n in app._notifications]
        assert any("before the reply began" in n and "Ctrl+R" in n for n in notices), notices
        assert not any("what arrived is kept" in n for n in notices), notices
        stored = store.load_messages(conversation.id)
        assert (stored[-1].role, stored[-1].content) == (Role.USER, "and one more thing")
        assert not [r for r in fake_openai.chat_requests() if not is_summary_request(r)]


def outgrown_truncating_chat(store):
    """A truncating chat of 60 messages in a 1,024-token window: its next request leaves
    the older ones out, and the pane marks where it starts."""
    conversation = store.create_conversation(model="gpt-4o-mini", title="long one",
                                             strategy="truncate", context_window=1024,
                                             max_output_tokens=128)
    for i in range(30):
        store.append_message(conversation.id, Role.USER, f"question {i} " + "word " * 40)
        store.append_message(conversation.id, Role.ASSISTANT, f"answer {i} " + "word " * 40)
    return conversation


async def test_messages_left_out_of_the_next_request_are_marked(tmp_path, fake_openai):
    """A truncating chat that outgrew its window shows where the next request starts."""
    services = make_services(tmp_path, fake_openai.base_url)
    store = services.store
    conversation = outgrown_truncating_chat(store)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.main.open_conversation(conversation.id)
            await wait_until(pilot, lambda: "not sent to the model" in "\n".join(
                b.copy_text() for b in app.main.pane.blocks), what="unsent marker")
            marker = next(b for b in app.main.pane.blocks if "not sent" in b.copy_text())
            plan = services.flow.preview(store.get_conversation(conversation.id))
            assert f"{len(plan.dropped_ids)} earlier messages" in marker.copy_text()
            assert marker.sort_key.startswith(max(plan.dropped_ids))
            store.update_conversation(conversation.id, context_window=None)
            # The screen's conversation is the one fact the marker follows.
            app.main.conversation = store.get_conversation(conversation.id)
            await wait_until(pilot, lambda: not [
                b for b in app.main.pane.blocks if "not sent" in b.copy_text()],
                what="marker gone")
    finally:
        await services.aclose()


async def test_a_notice_wider_than_the_pane_wraps(tmp_path, fake_openai):
    """A context notice longer than the pane is wide wraps onto more rows: it was a Label
    as wide as its text, cut at the pane's edge (seen against llama.cpp at 100 columns:
    "could not summarize earlier messages (the summary was cut a")."""
    services = make_services(tmp_path, fake_openai.base_url)
    store = services.store
    conversation = outgrown_truncating_chat(store)
    app = make_app(services)
    try:
        async with app.run_test(size=(70, 30)) as pilot:
            await app.main.open_conversation(conversation.id)
            await wait_until(pilot, lambda: any(
                "not sent" in b.copy_text() for b in app.main.pane.blocks),
                what="unsent marker")

            def shown_text():
                return [label for b in app.main.pane.blocks if "not sent" in b.copy_text()
                        for label in b.query(".notice-text")]

            await wait_until(pilot, shown_text, what="its text")
            await pilot.pause()
            label = shown_text()[0]
            marker = label.parent
            assert len(marker.text) > marker.content_size.width  # the case at hand
            assert label.outer_size.width <= marker.content_size.width, \
                (label.outer_size, marker.content_size)
            assert label.size.height >= 2
    finally:
        await services.aclose()


async def test_an_error_hint_wider_than_the_pane_wraps(services, fake_openai):
    fake_openai.script(Script.server_error(401))
    services.client.max_retries = 0
    app = make_app(services)
    async with app.run_test(size=(60, 24)) as pilot:
        await type_and_send(pilot, "please answer")
        await wait_until(pilot, lambda: app.main.pane.query(".error-hint"), timeout=15,
                         what="error hint")
        await pilot.pause()
        hint = app.main.pane.query_one(".error-hint")
        block = hint.parent
        assert len(str(hint.render())) > block.content_size.width  # the case at hand
        assert hint.outer_size.width <= block.content_size.width, \
            (hint.outer_size, block.content_size)
        assert "retry" in screen_text(app)


async def test_a_narrow_status_line_drops_the_strategy_and_keeps_the_state(services,
                                                                            fake_openai):
    # At 60 columns the row's facts were cut at its edge: "strategy: summa", and the state
    # at the right end ("streaming…", a retry's countdown) had no room at all.
    fake_openai.script(Script.reply("word " * 400, tps=50))
    app = make_app(services)
    async with app.run_test(size=(60, 20)) as pilot:
        status = app.main.status

        def status_row() -> str:
            return screen_text(app).splitlines()[-2]

        await type_and_send(pilot, "please answer")
        await wait_until(pilot, lambda: "streaming…" in status_row(),
                         what=f"the state in the status row: {status_row()!r}")
        assert status.has_class("-tight")
        assert "strategy" not in status_row()
        await pilot.resize_terminal(120, 30)
        await wait_until(pilot, lambda: "strategy" in status_row(), what="room again")
        assert not status.has_class("-tight")
        assert "streaming…" in status_row()


async def test_rate_limit_wait_counts_down_in_the_status_line(services, fake_openai):
    fake_openai.script(Script.rate_limited(retry_after=2), Script.reply("finally"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        state = app.main.status.query_one("#status-state")
        app.main.composer.insert("hello?")
        await pilot.press("enter")
        # "2s" lasts a second: on a loaded machine the first frame may already say "1s".
        await wait_until(pilot, lambda: "retrying in" in str(state.render()),
                         what="retry wait shown")
        shown = str(state.render())
        assert "429" in shown
        assert "retrying in 2s" in shown or "retrying in 1s" in shown, shown
        await wait_until(pilot, lambda: "retrying in 1s" in str(state.render()),
                         what="countdown")
        await wait_until(pilot, lambda: services.store.load_messages(
            app.main.conversation.id)[-1].content == "finally", what="reply after the wait")
        await wait_until(pilot, lambda: "retrying" not in str(state.render()),
                         what="state cleared")


async def test_the_status_line_ticks_only_while_a_retry_counts_down(services, fake_openai):
    """Idle is idle: the once-a-second countdown timer runs only during a retry's wait."""
    fake_openai.script(Script.rate_limited(retry_after=2), Script.reply("finally"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        status = app.main.status
        await pilot.pause()
        assert status._countdown is None
        app.main.composer.insert("hello?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: status._countdown is not None, what="the countdown")
        await wait_until(pilot, lambda: not app.main.streams, what="the reply")
        await wait_until(pilot, lambda: status._countdown is None, what="the timer stopped")


async def test_a_reply_waiting_for_a_locked_database_says_so_and_is_stored(services,
                                                                            fake_openai):
    """Another program holds the database's write lock as the reply ends: the status line
    says why the reply is not done, keys still work, and it is stored once the lock goes."""
    import sqlite3

    answer = "The whole answer" + " and more" * 20 + "."
    fake_openai.script(Script.reply(answer, tps=40))  # ~1 s: locked while it streams
    app = make_app(services)
    async with app.run_test(size=(120, 30)) as pilot:
        await type_and_send(pilot, "please answer")
        await wait_until(pilot, lambda: "The whole" in screen_text(app), what="the reply")
        holder = sqlite3.connect(str(services.store.path), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            await wait_until(pilot, lambda: "database locked…" in screen_text(app),
                             what="the status line's word on the lock")
            assert app.main.streams
            await pilot.press("x")  # the app answers keys meanwhile
            await wait_until(pilot, lambda: "x" in app.main.composer.text, what="the key")
        finally:
            holder.execute("COMMIT")
            holder.close()
        await wait_until(pilot, lambda: not app.main.streams, what="the reply stored")
        replies = [m for m in services.store.load_messages(app.main.conversation.id)
                   if m.role == Role.ASSISTANT]
        assert replies[-1].content == answer
        assert replies[-1].status == MessageStatus.COMPLETE
        assert "database locked…" not in screen_text(app)


async def test_a_server_that_is_down_is_named_once_with_what_to_do(tmp_path):
    # The block asked "is the server running?" twice: in the error and again in the hint.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    services = make_services(tmp_path, f"http://127.0.0.1:{port}/v1")
    services.client.max_retries = 0
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await type_and_send(pilot, "are you there?")
            await wait_until(pilot, lambda: app.main.pane.query(ErrorBlock), timeout=15,
                             what="the error block")
            await pilot.pause()
            block = app.main.pane.query_one(ErrorBlock)
            shown = " ".join(str(part.render()) for part in block.query("Label, Static"))
            assert f"cannot reach http://127.0.0.1:{port}/v1" in shown
            assert shown.lower().count("is the server running") == 1, shown
            assert "Start the server or check the base URL" in shown
            assert "are you there?" in screen_text(app)
    finally:
        await services.aclose()
