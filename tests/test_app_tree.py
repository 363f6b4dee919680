"""Pilot tests of the conversation tree in the app: regenerate keeps the old answer, edit and
resend, switch versions (‹ 2/3 ›), fork, delete a branch; and a search hit on another
branch. Each checks the screen and the store, against the real test server."""

from __future__ import annotations

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core import tree
from tui.core.models import Role
from tui.ui.screens.dialogs import ConfirmScreen
from tui.ui.screens.edit_message import EditMessageScreen
from tui.ui.widgets.message_blocks import AssistantBlock, UserBlock
from tui.ui.widgets.sidebar import Sidebar


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


def replies(app) -> list[str]:
    return [b.text for b in app.main.pane.query(AssistantBlock)]


def questions(app) -> list[str]:
    return [b.message.content for b in app.main.pane.query(UserBlock)]


def planned(app) -> list[str] | None:
    """What the meter's plan would send (its reading computes it), None before it exists."""
    meter = app.main.meter
    if meter is None:
        return None
    meter.reading()
    return None if meter.plan is None else [m["content"] for m in meter.plan.messages]


def branched_chat(store, answers=("answer one", "answer two", "answer three")):
    """A question with three stored answers (the last one shown), then nothing."""
    conversation = store.create_conversation(model="gpt-4o-mini", title="Branchy")
    question = store.append_message(conversation.id, Role.USER, "which answer?")
    made = [store.append_message(conversation.id, Role.ASSISTANT, text, model="gpt-4o-mini",
                                 parent_id=question.id) for text in answers]
    return conversation, question, made


async def focus_block(pilot, message_id: str) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.main.pane.block(message_id) is not None,
                     what="the block")
    app.main.pane.block(message_id).focus()
    await pilot.pause()


async def test_regenerate_adds_a_sibling_and_the_old_answer_is_one_key_away(services,
                                                                           fake_openai):
    fake_openai.script(Script.reply("first answer"), Script.reply("second answer"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        composer.focus()
        composer.insert("question")
        await pilot.press("enter")
        await wait_until(pilot, lambda: replies(app) == ["first answer"]
                         and not app.main.streams, what="the first answer")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: replies(app) == ["second answer"]
                         and not app.main.streams, what="the regenerated answer")
        cid = app.main.conversation.id
        assert services.store.count_messages(cid) == 3  # the first answer is kept
        block = app.main.pane.query(AssistantBlock).last()
        await wait_until(pilot, lambda: "‹ 2/2 ›" in block.header_text(), what="the pager")
        block.focus()
        await pilot.press("h")  # the previous version
        await wait_until(pilot, lambda: replies(app) == ["first answer"], what="switched")
        assert [m.content for m in services.store.load_messages(cid)] == [
            "question", "first answer"]
        assert "‹ 1/2 ›" in screen_text(app)


async def test_version_keys_work_on_a_regenerated_reply_without_refocusing(services,
                                                                          fake_openai):
    # Ctrl+R on the focused reply replaced its block and left the focus to the pane: h
    # said "Focus a message first" though the footer still offered it.
    fake_openai.script(Script.reply("first answer"), Script.reply("second answer"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        app.main.composer.focus()
        app.main.composer.insert("question")
        await pilot.press("enter")
        await wait_until(pilot, lambda: replies(app) == ["first answer"]
                         and not app.main.streams, what="the first answer")
        await pilot.press("ctrl+o")
        assert isinstance(app.focused, AssistantBlock)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: replies(app) == ["second answer"]
                         and not app.main.streams, what="the regenerated answer")
        await pilot.pause()
        await pilot.press("h")
        await wait_until(pilot, lambda: replies(app) == ["first answer"], what="switched")
        assert isinstance(app.focused, AssistantBlock)
        await pilot.press("l")  # and back, with the focus kept on the version shown
        await wait_until(pilot, lambda: replies(app) == ["second answer"], what="back")


async def test_switching_versions_moves_the_pane_the_store_and_the_meter(services):
    conversation, _, made = branched_chat(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: replies(app) == ["answer three"], what="the chat")
        await wait_until(pilot, lambda: planned(app) == ["which answer?", "answer three"],
                         what="the meter's plan")
        await focus_block(pilot, made[2].id)
        assert "‹ 3/3 ›" in screen_text(app)
        await pilot.press("left")
        await wait_until(pilot, lambda: replies(app) == ["answer two"], what="one back")
        await pilot.press("h")
        await wait_until(pilot, lambda: replies(app) == ["answer one"], what="two back")
        assert tree.active_leaf(services.store, conversation.id) == made[0].id
        assert "‹ 1/3 ›" in screen_text(app)
        await pilot.press("h")  # nothing before the first: stays
        await pilot.pause()
        assert replies(app) == ["answer one"]
        await pilot.press("l")
        await wait_until(pilot, lambda: replies(app) == ["answer two"], what="forward")
        # The meter follows the path shown: its plan is the request the next send makes.
        await wait_until(pilot, lambda: planned(app) == ["which answer?", "answer two"],
                         what="the meter's plan follows")


def edit_me_chat(store, question: str):
    """A chat of one question (returned) and its wrong answer, "5"."""
    conversation = store.create_conversation(model="gpt-4o-mini", title="Edit me")
    first = store.append_message(conversation.id, Role.USER, question)
    store.append_message(conversation.id, Role.ASSISTANT, "5", model="gpt-4o-mini")
    return first


async def open_editor(pilot, message_id: str) -> None:
    await focus_block(pilot, message_id)
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, EditMessageScreen),
                     what="the editor")


async def test_an_edit_typed_and_sent_in_one_burst_sends_all_of_it(services, fake_openai):
    """Keys typed fast arrive as one burst; a priority Send ran before the last words had
    reached the field, so the edit went without them."""
    from textual import events

    fake_openai.script(Script.reply("fine"))
    first = edit_me_chat(services.store, "what is 2+2")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot, first.id)
        await pilot.press("end")
        for char in "abc":
            app.post_message(events.Key(char, char))
        app.post_message(events.Key("ctrl+s", None))
        await wait_until(pilot, lambda: replies(app) == ["fine"] and not app.main.streams,
                         what="the new branch's reply")
        assert questions(app) == ["what is 2+2abc"]

async def test_edit_resends_as_a_new_branch(services, fake_openai):
    fake_openai.script(Script.reply("reply to the edit"))
    store = services.store
    first = edit_me_chat(store, "what is 2+2?")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot, first.id)
        area = app.screen.query_one("#edit-message-input")
        assert area.text == "what is 2+2?"
        area.text = "what is 2+2, exactly?"
        await pilot.press("f2")
        await wait_until(pilot, lambda: replies(app) == ["reply to the edit"]
                         and not app.main.streams, what="the new branch's reply")
        assert questions(app) == ["what is 2+2, exactly?"]
        path = store.load_messages(first.conversation_id)
        assert [m.content for m in path] == ["what is 2+2, exactly?", "reply to the edit"]
        assert store.count_messages(first.conversation_id) == 4
        assert fake_openai.chat_requests()[-1]["messages"] == [
            {"role": "user", "content": "what is 2+2, exactly?"}]
        await wait_until(pilot, lambda: "‹ 2/2 ›" in screen_text(app), what="the pager")


async def test_edit_is_only_for_your_messages_and_cancel_changes_nothing(services):
    conversation, question, made = branched_chat(services.store, answers=("only",))
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await focus_block(pilot, made[0].id)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, EditMessageScreen)
        await focus_block(pilot, question.id)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditMessageScreen),
                         what="the editor")
        await pilot.press("escape")
        await pilot.pause()
        assert services.store.count_messages(conversation.id) == 2


async def test_fork_copies_the_path_into_a_new_chat(services):
    conversation, question, made = branched_chat(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await focus_block(pilot, made[2].id)
        await pilot.press("f")
        await wait_until(pilot, lambda: app.main.conversation is not None
                         and app.main.conversation.id != conversation.id, what="the fork")
        fork = app.main.conversation
        assert fork.title == "Branchy (fork)"
        await wait_until(pilot, lambda: replies(app) == ["answer three"], what="its path")
        assert [m.content for m in services.store.load_messages(fork.id)] == [
            "which answer?", "answer three"]
        assert services.store.count_messages(fork.id) == 2  # the path only, no siblings
        assert services.store.count_messages(conversation.id) == 4


async def test_delete_takes_the_branch_below_after_asking(services):
    store = services.store
    conversation, question, made = branched_chat(store, answers=("keep me", "drop me"))
    follow = store.append_message(conversation.id, Role.USER, "follow-up to drop")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await focus_block(pilot, made[1].id)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asks")
        assert "1 message below it" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: replies(app) == ["keep me"], what="the sibling")
        assert follow.id not in {m.id for m in store.load_messages(conversation.id)}
        assert store.count_messages(conversation.id) == 2
        assert questions(app) == ["which answer?"]


async def test_a_search_hit_on_another_branch_opens_that_branch(services):
    store = services.store
    conversation, question, made = branched_chat(
        store, answers=("the quokka answer", "a plain answer"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: replies(app) == ["a plain answer"], what="the chat")
        await pilot.press("ctrl+f")
        await pilot.press(*"quokka")
        sidebar = app.main.query_one(Sidebar)
        await wait_until(pilot, lambda: sidebar.mode == "search", what="search mode")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: replies(app) == ["the quokka answer"],
                         what="the hit's branch")
        assert tree.active_leaf(store, conversation.id) == made[0].id
        assert app.main.pane.block(made[0].id).has_class("-search-hit")


def palette_command(app, title: str):
    return next(c for c in app.get_system_commands(app.main) if c.title == title)


async def test_the_palette_switches_forks_and_deletes_the_newest_fitting_message(services):
    conversation, question, made = branched_chat(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: replies(app) == ["answer three"], what="the chat")
        app.main.composer.focus()  # no message focused: the commands take the newest
        palette_command(app, "Previous branch").callback()
        await wait_until(pilot, lambda: replies(app) == ["answer two"], what="switched")
        palette_command(app, "Edit message").callback()
        await wait_until(pilot, lambda: isinstance(app.screen, EditMessageScreen),
                         what="the editor")
        assert app.screen.query_one("#edit-message-input").text == "which answer?"
        await pilot.press("escape")
        palette_command(app, "Delete message").callback()
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asks")
        await pilot.press("y")
        await wait_until(pilot, lambda: services.store.count_messages(conversation.id) == 3,
                         what="deleted")
        palette_command(app, "Fork chat here").callback()
        await wait_until(pilot, lambda: app.main.conversation.id != conversation.id,
                         what="forked")
