"""Pilot tests of the conversation actions: export, copy, model, system prompt, strategy,
first-run setup, literal rendering, older messages and help."""

from __future__ import annotations

import os
import stat

import pytest
from textual.widgets import TextArea

from tests.fake_openai.server import FakeOpenAI
from tests.test_app_support import (
    SIZE,
    answer_setup,
    make_app,
    make_services,
    screen_text,
    wait_until,
)
from tui.core.config import load_settings
from tui.core.models import Role, Strategy
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.model_picker import ModelPickerScreen
from tui.ui.screens.system_prompt import SystemPromptScreen
from tui.ui.widgets.message_blocks import AssistantBlock, ChatBlock, UserBlock
from tui.ui.widgets.setup_panel import SetupPanel


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


def chat(store, title="Plans", turns=1):
    conversation = store.create_conversation(model="gpt-4o-mini", title=title)
    for i in range(turns):
        store.append_message(conversation.id, Role.USER, f"question {i}")
        store.append_message(conversation.id, Role.ASSISTANT, f"**answer** {i}",
                             model="gpt-4o-mini")
    return conversation


async def test_export_writes_markdown_without_overwriting(services, tmp_path):
    chat(services.store, "Trip plans")
    services.settings.export_dir = str(tmp_path / "exports")
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+e")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        first = tmp_path / "exports" / "trip-plans.md"
        second = tmp_path / "exports" / "trip-plans-1.md"
        assert first.exists() and second.exists()
        text = first.read_text()
        assert "Trip plans" in text and "question 0" in text and "**answer** 0" in text
        assert second.read_text() == text
        messages = [n.message for n in app._notifications]
        assert any(str(second) in m for m in messages)


async def test_copy_last_reply_and_a_focused_message(services):
    chat(services.store, turns=2)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+y")
        assert app.clipboard == "**answer** 1"
        await pilot.press("ctrl+o")  # into the messages: the last one has focus
        assert isinstance(app.focused, AssistantBlock)
        await pilot.press("k")
        assert isinstance(app.focused, UserBlock)
        await pilot.press("up", "j")
        assert isinstance(app.focused, UserBlock)
        await pilot.press("ctrl+y")
        assert app.clipboard == "question 1"
        await pilot.press("k", "c")
        assert app.clipboard == "**answer** 0"


async def test_model_picker_lists_filters_and_sets(services, fake_openai):
    conversation = chat(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        options = app.screen.query_one("#model-list")
        await wait_until(pilot, lambda: options.option_count == len(fake_openai.models))
        await pilot.press(*"4.1", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPickerScreen))
        assert services.store.get_conversation(conversation.id).model == "gpt-4.1"
        await pilot.pause()
        assert "gpt-4.1" in screen_text(app)


async def open_model_picker(pilot):
    """F3; the picker's status line."""
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen))
    return pilot.app.screen.query_one("#model-status")


async def test_model_picker_counts_one_model_in_the_singular(tmp_path):
    # A llama.cpp server lists its one model: the picker said "1 models".
    with FakeOpenAI(models=["tiny-llama"]) as server:
        services = make_services(tmp_path, server.base_url)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                status = await open_model_picker(pilot)
                await wait_until(pilot, lambda: "1 model —" in str(status.render()))
        finally:
            await services.aclose()


async def test_model_picker_counts_what_the_filter_leaves(services, fake_openai):
    """The count said "5 models — Enter picks the highlighted one" whatever was typed, also
    when nothing matched and Enter would use the typed name."""
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        status = await open_model_picker(pilot)
        listed = len(fake_openai.models)
        await wait_until(pilot, lambda: f"{listed} models —" in str(status.render()))
        await pilot.press(*"mini")
        shown = len([m for m in fake_openai.models if "mini" in m])
        await wait_until(pilot, lambda: f"{shown} of {listed} models match"
                         in str(status.render()), what=str(status.render()))
        await pilot.press(*"[/]zz")
        await wait_until(pilot, lambda: "Enter uses 'mini[/]zz' as the name"
                         in str(status.render()), what=str(status.render()))

async def test_model_picker_falls_back_to_free_text(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")  # nothing listens there
    conversation = chat(services.store)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            status = await open_model_picker(pilot)
            await wait_until(pilot, lambda: "Couldn't list" in str(status.render()),
                             timeout=10)
            await pilot.press(*"llama3.2:3b", "enter")
            await wait_until(pilot, lambda: not isinstance(app.screen, ModelPickerScreen))
            assert services.store.get_conversation(conversation.id).model == "llama3.2:3b"
    finally:
        await services.aclose()


async def write_system_prompt(pilot, text: str, save_key: str) -> None:
    """F4, type ``text``, save with ``save_key``: until the dialog has closed."""
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SystemPromptScreen))
    await pilot.press(*text, save_key)
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, SystemPromptScreen),
                     what="the dialog saved and closed")

async def test_system_prompt_editor_and_strategy_cycle(services):
    conversation = chat(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await write_system_prompt(pilot, "Be brief.", "f2")
        assert services.store.get_conversation(conversation.id).system_prompt == "Be brief."
        await pilot.press("f5")
        assert services.store.get_conversation(conversation.id).strategy == Strategy.TRUNCATE
        await pilot.pause()
        assert "strategy: truncate" in screen_text(app)
        await pilot.press("f5", "f5")
        assert services.store.get_conversation(conversation.id).strategy == Strategy.SUMMARIZE


async def test_a_change_answered_while_the_app_quits_needs_no_sidebar(services):
    """Quitting removes the main screen's widgets before the screen: a dialog's save that
    finished just then asked for the sidebar and raised NoMatches (a fresh-clone CI run,
    the system prompt saved as the test's app closed)."""
    from tui.ui.widgets.sidebar import Sidebar

    conversation = chat(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.main.query_one(Sidebar).remove()
        await app.main.actions._changed(conversation.id)
        assert app.main.is_attached and not app.main.query(Sidebar)


@pytest.mark.parametrize("save_key", ["f2", "ctrl+s"])
async def test_the_system_prompt_saves_with_f2_or_ctrl_s_after_a_burst(services, save_key):
    """Ctrl+S saves in the edit and settings dialogs; the system prompt took F2 only. The
    keys come as one burst, as a terminal delivers fast typing: made a priority binding,
    the save ran before the text typed just before it had reached the field (saved empty)."""
    from textual import events

    conversation = chat(services.store)
    assert services.store.get_conversation(conversation.id).system_prompt == ""
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, SystemPromptScreen))
        # The dialog is pushed before it mounts and focuses its field: a burst sent in
        # between had nowhere to go (a fresh-clone CI run under load saved it empty).
        await wait_until(pilot, lambda: isinstance(app.focused, TextArea),
                         what="the prompt's field focused")
        for char in "Be kind.":
            app.post_message(events.Key(char if char.isalnum() else
                                        {" ": "space", ".": "full_stop"}[char], char))
        app.post_message(events.Key(save_key, None))
        await wait_until(pilot, lambda: not isinstance(app.screen, SystemPromptScreen),
                         what="the dialog saved and closed")
        # A new chat's prompt is "" (never None): wait for the save itself, which runs
        # in a thread (waiting for "not None" passed at once, and under load the check
        # below ran before the save had written).
        await wait_until(pilot, lambda: services.store.get_conversation(
            conversation.id).system_prompt != "", what="the prompt stored")
        assert services.store.get_conversation(conversation.id).system_prompt == "Be kind."

async def test_model_output_and_titles_are_shown_literally(services):
    store = services.store
    conversation = store.create_conversation(model="[red]model[/]", title="[bold]x")
    store.append_message(conversation.id, Role.USER, "[red]not red[/] \x1b[31mescape")
    store.append_message(conversation.id, Role.ASSISTANT, "[blink]reply[/blink]",
                         model="[red]model[/]")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]x" in text
        assert "[red]not red[/] ␛[31mescape" in text
        assert "[blink]reply[/blink]" in text
        assert "[red]model[/]" in text
        assert "\x1b" not in text


async def test_older_messages_load_when_scrolling_up(services):
    store = services.store
    conversation = store.create_conversation(model="gpt-4o-mini", title="Long")
    for i in range(120):
        store.append_message(conversation.id, Role.USER, f"message number {i}")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane
        await pilot.pause()
        first = len(pane.blocks)  # what fills the pane, far less than the chat
        assert 4 <= first <= SIZE[1] // 3 + 2 < 50
        assert pane.blocks[-1].copy_text() == "message number 119"
        pane.scroll_to(y=0, animate=False, immediate=True)
        await wait_until(pilot, lambda: len(pane.blocks) == first + 50, what="older page")
        # The view stays on what was on screen: the older page is above it.
        await wait_until(pilot, lambda: pane.scroll_y > 10, what="position kept")
        pane.scroll_to(y=0, animate=False, immediate=True)
        await wait_until(pilot, lambda: len(pane.blocks) == first + 100, what="third page")
        await wait_until(pilot, lambda: pane.scroll_y > 10, what="position kept")
        pane.scroll_to(y=0, animate=False, immediate=True)
        await wait_until(pilot, lambda: len(pane.blocks) == 120, what="oldest page")
        texts = [b.copy_text() for b in pane.blocks]
        assert texts == [f"message number {i}" for i in range(120)]


async def test_first_run_setup_saves_a_masked_key(tmp_path, isolated_env):
    services = make_services(tmp_path, None)
    chat(services.store, "Earlier chat")
    app = make_app(services)
    secret = "sk-test-abcdef123456"
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            panel = app.main.query_one(SetupPanel)
            await pilot.pause()
            assert "OPENAI_API_KEY" in screen_text(app)
            assert "Earlier chat" in screen_text(app)  # old chats stay browsable
            key_input = panel.query_one("#setup-key")
            assert key_input.password
            key_input.focus()
            await pilot.press(*secret)
            await pilot.pause()
            assert secret not in screen_text(app) and secret[-6:] not in screen_text(app)
            await pilot.press("enter")
            await wait_until(pilot, lambda: not app.main.query(SetupPanel))
            assert services.settings.api_key == secret
            saved = load_settings(env={})
            assert saved.api_key == secret
            mode = stat.S_IMODE(os.stat(saved.config_path).st_mode)
            assert mode == 0o600
            assert all(secret not in n.message for n in app._notifications)
    finally:
        await services.aclose()


async def test_setup_never_saves_a_url_as_the_key(tmp_path, isolated_env, fake_openai):
    services = make_services(tmp_path, None)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            assert app.main.query(SetupPanel)
            await answer_setup(pilot, fake_openai.base_url)
            await wait_until(pilot, lambda: not app.main.query(SetupPanel))
            assert services.settings.api_key is None
            assert services.settings.base_url == fake_openai.base_url
            saved = load_settings(env={})
            assert saved.api_key is None and saved.base_url == fake_openai.base_url
    finally:
        await services.aclose()


async def open_help(pilot) -> None:
    await pilot.press("f1")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    await pilot.pause()


async def test_help_lists_every_binding(services):
    app = make_app(services)
    # Tall enough for the whole list (the help scrolls on smaller screens).
    async with app.run_test(size=(110, 80)) as pilot:
        await open_help(pilot)
        text = screen_text(app)
        for description in ("New chat", "Previous chat", "Next chat", "Search", "Rename",
                            "Delete chat", "Pin / unpin", "Archive / unarchive",
                            "Show archived", "Stop reply", "Regenerate / retry", "Copy reply",
                            "Export", "Model", "System prompt", "Strategy", "New line",
                            "Send", "Quit", "Previous message", "Next message",
                            "Chat settings", "Personas", "Usage"):
            assert description in text, description
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_the_help_title_wraps_in_a_small_terminal(services):
    # At 60x20 the title ("... opens the command palette)") was cut at the dialog's edge.
    app = make_app(services)
    async with app.run_test(size=(60, 20)) as pilot:
        await open_help(pilot)
        title = app.screen.query_one(".dialog-title")
        assert title.outer_size.width <= title.parent.content_size.width
        assert "palette)" in screen_text(app)  # the end of the title is on screen


async def test_a_long_help_description_wraps_under_itself(services):
    # It wrapped to the dialog's left edge, under the keys ("    source)" below "Ctrl+y").
    app = make_app(services)
    async with app.run_test(size=(80, 40)) as pilot:
        await open_help(pilot)
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "Copy reply:" in line)
        column = lines[first].index("Copy reply:")
        rest = lines[first + 1][column:]
        assert lines[first + 1][:column].strip(" █│") == "", lines[first + 1]
        assert rest.strip(" █") and "(Markdown source)" in lines[first] + rest


async def test_meter_shows_the_draft(services):
    chat(services.store)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        meter = app.main.status.query_one("#status-meter")
        before = str(meter.render())
        app.main.composer.insert("word " * 3000)
        await wait_until(pilot, lambda: str(meter.render()) != before, what="meter update")
        assert "/ 128k" in str(meter.render())
        assert isinstance(app.main.pane.blocks[0], ChatBlock)


async def test_meter_uses_the_window_a_vllm_server_reports(tmp_path, fake_openai):
    fake_openai.models = ["qwen2.5"]
    fake_openai.max_model_len = {"qwen2.5": 32768}
    services = make_services(tmp_path, fake_openai.base_url, model="qwen2.5")
    services.store.create_conversation(model="qwen2.5", title="local model")
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.main.open_conversation(services.store.list_conversations()[0].id)
            meter = app.main.status.query_one("#status-meter")
            await wait_until(pilot, lambda: "/ 32k" in str(meter.render()),
                             what="server window")
            assert services.store.get_model_window("qwen2.5", fake_openai.base_url) == 32768
    finally:
        await services.aclose()
