"""Pilot tests of keys, footer, command palette and small terminals (issue 9, part 2)."""

from __future__ import annotations

import pytest
from textual import events

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.models import Role
from tui.ui.screens.help import HelpScreen
from tui.ui.widgets.chat_pane import ChatPane
from tui.ui.widgets.composer import Composer
from tui.ui.widgets.conversation_list import ConversationList
from tui.ui.widgets.key_footer import KeyFooter
from tui.ui.widgets.sidebar import SearchBox


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


def seed(store, title="Plans", turns=2):
    conversation = store.create_conversation(model="gpt-4o-mini", title=title)
    for i in range(turns):
        store.append_message(conversation.id, Role.USER, f"question {i}")
        store.append_message(conversation.id, Role.ASSISTANT, f"answer {i}",
                             model="gpt-4o-mini")
    return conversation


def footer_text(app) -> str:
    return screen_text(app).splitlines()[-1]


def burst(app, *keys_and_chars: tuple[str, str | None]) -> None:
    """Queue keys the way a terminal delivers a burst: all before the app handles any."""
    for key, char in keys_and_chars:
        app.post_message(events.Key(key, char))


def palette_titles(app) -> list[str]:
    return [command.title for command in app.get_system_commands(app.main)]


# -- item 13: the footer follows the focus and the streaming state ---------------------------

async def test_footer_shows_the_message_keys_when_messages_have_focus(services):
    seed(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.pane.blocks, what="messages")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: "Prev" in footer_text(app), what="message keys")
        footer = footer_text(app)
        for shown in ("k Prev", "j Next", "g First", "G Last", "c Copy"):
            assert shown in footer, (shown, footer)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: "j Next" not in footer_text(app), what="keys gone")


async def test_help_and_quit_stay_in_the_footer_when_the_message_keys_do_not_fit(services):
    """At 160 columns the messages' keys filled the footer and cut "f1 Help" in half: help
    and quit go first, at any width."""
    seed(services.store)
    app = make_app(services)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.main.pane.blocks, what="messages")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: "Prev" in footer_text(app), what="message keys")
        await wait_until(pilot, lambda: "f1 Help" in footer_text(app)
                         and "^q Quit" in footer_text(app), what=footer_text(app))
        assert footer_text(app).index("Help") < footer_text(app).index("Prev")
        await pilot.resize_terminal(240, 45)
        await pilot.pause()
        assert footer_text(app).index("Help") < footer_text(app).index("Prev")


async def test_footer_offers_stop_reply_only_while_a_reply_streams(services, fake_openai):
    fake_openai.script(Script.reply("slow words for the footer", hold_after=1))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Send" in footer_text(app), what="the footer")
        assert "Stop reply" not in footer_text(app)
        app.main.composer.insert("hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: fake_openai.holding.is_set(), what="streaming")
        await wait_until(pilot, lambda: "Stop reply" in footer_text(app), what="stop shown")
        fake_openai.release()
        await wait_until(pilot, lambda: not app.main.streams, what="end of the reply")
        await wait_until(pilot, lambda: "Stop reply" not in footer_text(app),
                         what="stop hidden")


async def test_stop_reply_comes_and_goes_without_rebuilding_the_footer(services, fake_openai):
    """Only the Stop reply key is added and removed around a reply: the other keys stay the
    same widgets (rebuilding all of them cost a re-layout as the reply's last words show)."""
    fake_openai.script(Script.reply("slow words for the footer", hold_after=1))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Send" in footer_text(app), what="the footer")
        footer = app.main.query_one(KeyFooter)
        before = list(footer.children)
        app.main.composer.insert("hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Stop reply" in footer_text(app), what="stop shown")
        during = list(footer.children)
        fake_openai.release()
        await wait_until(pilot, lambda: "Stop reply" not in footer_text(app),
                         what="stop hidden")
        after = list(footer.children)
    stop = [key for key in during if getattr(key, "action", "") == "cancel_stream"]
    assert len(stop) == 1
    assert [key for key in during if key not in stop] == before
    assert after == before


# -- item 7: the command palette -------------------------------------------------------------

async def test_palette_lists_every_action_once_and_keys_opens_our_help(services, fake_openai):
    from tui.ui import keys

    fake_openai.script(Script.reply("palette reply", hold_after=1))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = palette_titles(app)
        assert len(titles) == len(set(titles)), titles
        for binding in keys.palette_bindings():
            if binding.action not in ("help", "cancel_stream"):
                assert keys.long_description(binding) in titles, binding.description
        assert "Stop reply" not in titles  # nothing streams
        app.main.composer.insert("hi")
        await pilot.press("enter")
        await wait_until(pilot, lambda: fake_openai.holding.is_set(), what="streaming")
        assert "Stop reply" in palette_titles(app)
        fake_openai.release()
        await wait_until(pilot, lambda: not app.main.streams)
        keys_command = next(c for c in app.get_system_commands(app.main) if c.title == "Keys")
        keys_command.callback()
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="our help")


async def test_palette_stop_reply_stops_the_stream(services, fake_openai):
    fake_openai.script(Script.reply("one two three four", hold_after=1))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        app.main.composer.insert("hi")
        await pilot.press("enter")
        await wait_until(pilot, lambda: fake_openai.holding.is_set(), what="streaming")
        stop = next(c for c in app.get_system_commands(app.main) if c.title == "Stop reply")
        stop.callback()
        await wait_until(pilot, lambda: not app.main.streams, what="stopped")
        assert fake_openai.client_disconnected.wait(5)


async def test_the_composers_tools_are_in_the_palette(services):
    """Prompt history, attach, expand pastes and the editor had keys in the composer only,
    though the README promises every action a palette entry."""
    from tui.ui.screens.history_picker import HistoryPickerScreen
    from tui.ui.app import COMPOSER_TOOLS, composer_tools

    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = palette_titles(app)
        tools = composer_tools()
        assert [b.id for b in tools] == list(COMPOSER_TOOLS)
        for binding in tools:
            assert binding.tooltip in titles, binding.id
        app.main.set_focus(app.main.sidebar.conversation_list)
        history = next(c for c in app.get_system_commands(app.main)
                       if c.title == "Search earlier prompts")
        history.callback()
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryPickerScreen),
                         what="the prompt history, from the palette")

@pytest.mark.parametrize(("key", "shown"), [("f7", "^s Save"), ("f1", "esc Close")])
async def test_a_dialog_shows_its_own_keys_not_the_screens_below(services, key, shown):
    """Below a dialog the main screen's footer stayed in view, listing keys that do nothing
    there (Ctrl+N in the edit dialog); the dialog's own were on its buttons only."""
    seed(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await wait_until(pilot, lambda: app.screen is not app.main, what="the dialog")
        await wait_until(pilot, lambda: shown in footer_text(app), what=footer_text(app))
        assert "New chat" not in footer_text(app)

# -- item 3: keys in the same burst as a focus-changing shortcut -----------------------------

@pytest.mark.parametrize("shortcut, target", [
    ("ctrl+f", SearchBox), ("slash", SearchBox), ("ctrl+t", Composer)])
async def test_keys_right_after_a_focus_shortcut_land_in_the_new_place(services, shortcut,
                                                                      target):
    seed(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.pane.blocks, what="messages")
        app.main.set_focus(app.main.pane)  # a place where "/" is a shortcut, not text
        await pilot.pause()
        char = "/" if shortcut == "slash" else None
        burst(app, (shortcut, char), ("h", "h"), ("i", "i"))
        await pilot.pause()
        widget = app.main.query_one(target)
        assert app.focused is widget
        text = widget.value if isinstance(widget, SearchBox) else widget.text
        assert text == "hi"


async def test_keys_right_after_ctrl_l_move_in_the_list(services):
    for title in ("first", "second", "third"):
        seed(services.store, title, turns=1)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        listing = app.main.query_one(ConversationList)
        start = listing.highlighted
        burst(app, ("ctrl+l", None), ("j", "j"))
        await pilot.pause()
        assert app.focused is listing
        assert listing.highlighted == (start or 0) + 1


# -- item 5: small terminals -----------------------------------------------------------------

async def test_sidebar_becomes_an_overlay_on_a_small_terminal(services):
    seed(services.store)
    app = make_app(services)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_until(pilot, lambda: app.main.pane.blocks, what="messages")
        await pilot.pause()
        pane = app.main.query_one(ChatPane)
        assert not app.main.sidebar.display
        assert pane.size.width >= 50
        await wait_until(pilot, lambda: "Help" in footer_text(app)
                         and "Quit" in footer_text(app), what="help and quit in the footer")
        app.main.composer.insert("a draft")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.main.sidebar.display
        assert pane.size.width >= 50  # floats over the messages, takes no columns
        assert "Plans" in screen_text(app)
        # The list has the keys, not the composer under the overlay (j went into the draft).
        assert app.focused is app.main.sidebar.conversation_list
        await pilot.press("j")
        assert app.main.composer.text == "a draft"
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not app.main.sidebar.display
        assert app.focused is app.main.composer
        # Opening a chat from the overlay closes it: the chat is what the user wants to see.
        await pilot.press("ctrl+l")
        assert app.main.sidebar.display
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.main.sidebar.display, what="overlay closed")
        assert app.focused is app.main.composer


async def test_a_wide_terminal_keeps_the_sidebar_in_place(services):
    seed(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.main.sidebar.display
        pane = app.main.query_one(ChatPane)
        assert pane.region.x >= app.main.sidebar.region.right


async def test_a_long_error_wraps_in_the_status_line_on_a_small_terminal(services,
                                                                          fake_openai):
    services.client.max_retries = 0
    fake_openai.script(Script.server_error(500))
    app = make_app(services)
    async with app.run_test(size=(60, 20)) as pilot:
        app.main.composer.insert("hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.main.streams and app.main.failures,
                         timeout=10, what="the failure")
        await pilot.pause()
        label = app.main.status.query_one("#status-error")
        region = label.region
        assert region.height >= 2  # it wraps rather than running off the edge
        lines = screen_text(app).splitlines()
        shown = " ".join(line[region.x:region.right]
                         for line in lines[region.y:region.bottom]).split()
        error = app.main.failures[app.main.conversation.id]
        # Every word of the error is on screen whole, none cut in the middle.
        for word in f"error: {error}".split():
            assert word in shown, (word, shown)


def test_every_binding_has_a_unique_id_and_a_description():
    from tui.ui import keys
    from tui.ui.app import GptTuiApp
    from tui.ui.screens.dialogs import ConfirmScreen, RenameScreen
    from tui.ui.screens.main import MainScreen
    from tui.ui.screens.model_picker import ModelPickerScreen
    from tui.ui.screens.system_prompt import SystemPromptScreen

    owners = [GptTuiApp, MainScreen, Composer, ConversationList, ChatPane, SearchBox,
              HelpScreen, RenameScreen, ConfirmScreen, ModelPickerScreen, SystemPromptScreen]
    bindings = [b for owner in owners for b in owner.BINDINGS]
    assert all(b.id and b.description for b in bindings)
    ids = [b.id for b in bindings]
    assert len(ids) == len(set(ids))
    # Help lists every one of them (dialog keys aside: each dialog says its own).
    listed = {b.id for section in keys.help_sections(list(Composer.BINDINGS))
              for b in section.bindings if b.id}
    assert {b.id for owner in owners[:6] for b in owner.BINDINGS} <= listed


# -- issue 14: an idle app does no periodic work ---------------------------------------------

async def test_the_composer_cursor_stops_blinking_when_left_alone(services, monkeypatch):
    """A blink repaints the screen twice a second: after BLINK_FOR without a key the cursor
    stays lit; a key makes it blink again."""
    # Long enough that the first key's work (it starts loading the tokenizer in a thread,
    # which holds the GIL for a while) cannot outlast it before the assertion below.
    monkeypatch.setattr(Composer, "BLINK_FOR", 1.0)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await wait_until(pilot, lambda: composer.has_focus, what="the composer focused")
        await pilot.press("a")
        assert composer.cursor_blink
        await wait_until(pilot, lambda: not composer.cursor_blink, what="a still cursor")
        await pilot.press("b")
        assert composer.cursor_blink
        assert composer.text == "ab"
        await wait_until(pilot, lambda: not composer.cursor_blink, what="still again")


async def test_footer_adding_keys_stops_quietly_when_the_app_quits_midway(services):
    # Seen at the terminal level as exit status 1: Ctrl+Q right after start-up ended the
    # screen while the footer was mounting keys one by one, and the next mount raised.
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Send" in footer_text(app), what="the footer")
        footer = app.main.query_one(KeyFooter)
        keys_before = len(footer.children)
        await footer.remove_children(list(footer.children)[-2:])
        mount = footer.mount
        mounted: list[object] = []

        async def mount_then_detach(*widgets, **where):
            await mount(*widgets, **where)
            mounted.extend(widgets)
            app.exit()  # Ctrl+Q: from here on nothing is attached

        footer.mount = mount_then_detach  # type: ignore[method-assign]
        footer.refresh(recompose=True)
        await wait_until(pilot, lambda: mounted, what="the first key mounted")
        await pilot.pause()
    assert app.return_code == 0
    assert keys_before > 2
    assert len(mounted) == 1
