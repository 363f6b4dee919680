"""Pilot tests of the app's context tools: the preview (F6), pinning a message, why a reply
stopped, the meter's window source, and forgetting a learned window. Real HTTP against the
test server, which can play a small llama.cpp box (a foreign tokenizer, /props, /tokenize)."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.fake_openai.server import FakeOpenAI
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tests.test_app_chat import type_and_send
from tui.core.models import Message, Role, Strategy
from tui.ui import keys
from tui.ui.screens.context_preview import ContextPreviewScreen
from tui.ui.widgets.message_blocks import PIN_MARK, AssistantBlock, UserBlock, _assistant_header

LLAMA = "tiny-llama"


def llama_server(**kwargs) -> FakeOpenAI:
    options = dict(tokenizer="foreign", flavor="llamacpp", context_window=512, models=[LLAMA],
                   reply="fine")
    options.update(kwargs)
    return FakeOpenAI(**options)


def long_chat(store, *, turns: int, model: str = LLAMA, strategy=Strategy.TRUNCATE,
              words: int = 12):
    conversation = store.create_conversation(model=model, title="Long one", strategy=strategy)
    for i in range(turns):
        store.append_message(conversation.id, Role.USER,
                             f"question {i}: " + "tell me more about rivers " * (words // 5))
        store.append_message(conversation.id, Role.ASSISTANT,
                             f"answer {i}: " + "rivers flow to the sea " * (words // 5),
                             model=model)
    return store.get_conversation(conversation.id)


def meter_text(app) -> str:
    return str(app.main.status.query_one("#status-meter").render())


async def chat_open(app, pilot) -> None:
    """Open the newest stored chat (a --model flag, as the tests pass, starts a new one)."""
    await pilot.pause()
    latest = app.services.store.list_conversations()[0]
    await app.main.open_conversation(latest.id)
    await pilot.pause()


async def open_preview(app, pilot) -> ContextPreviewScreen:
    await pilot.press("f6")
    await wait_until(pilot, lambda: isinstance(app.screen, ContextPreviewScreen)
                     and app.screen.preview is not None, what="the preview")
    return app.screen


async def test_preview_lists_fates_window_source_and_sends_nothing(tmp_path):
    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        conversation = long_chat(services.store, turns=20)
        first = services.store.load_messages(conversation.id)[0]
        services.store.set_message_pinned(first.id, True)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await chat_open(app, pilot)
                screen = await open_preview(app, pilot)
                preview = screen.preview
                table = screen.query_one(DataTable)
                assert table.row_count == 40 == len(preview.items)
                fates = [item.fate for item in preview.items]
                assert fates[0] == "pinned" and fates[-1] == "sent" and "dropped" in fates
                assert preview.exact and preview.window == 512
                assert preview.window_source == "server"
                facts = str(screen.query_one("#preview-facts").render())
                assert "reported by the server" in facts and "exact" in facts
                assert f"reply reserve: {preview.reply_reserve:,}" in facts
                assert f"Prompt budget: {preview.available:,}" in facts
                # The request is what it lists as sent (and pinned), in order.
                contents = [m["content"] for m in preview.messages]
                kept = [i.content for i in preview.items if i.fate in ("sent", "pinned")]
                assert contents[-len(kept):] == kept
                assert server.chat_log() == [], "the preview sends no chat request"
                await pilot.press("escape")
                await wait_until(pilot, lambda: not isinstance(app.screen,
                                                               ContextPreviewScreen))
        finally:
            await services.aclose()


async def test_preview_of_a_thousand_messages_is_one_table(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    conversation = long_chat(services.store, turns=500, model="gpt-4o-mini",
                             strategy=Strategy.SUMMARIZE)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await chat_open(app, pilot)
            screen = await open_preview(app, pilot)
            assert screen.query_one(DataTable).row_count == 1000
            # One table, not a widget per message.
            assert len(list(screen.query("*"))) < 40
            assert screen.preview.conversation_id == conversation.id
            assert "from the built-in model table" in str(
                screen.query_one("#preview-facts").render())
    finally:
        await services.aclose()


async def test_preview_is_in_the_palette_and_the_help(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Context preview: what the next request sends" in titles
            assert "Forget learned window" in titles
            ids = {b.id for section in keys.help_sections([]) for b in section.bindings}
            assert {"chat.context_preview", "messages.pin"} <= ids
            # No chat open yet: the preview says so instead of opening.
            await pilot.press("f6")
            await pilot.pause()
            assert not isinstance(app.screen, ContextPreviewScreen)
    finally:
        await services.aclose()


async def test_p_pins_the_focused_message_and_the_preview_follows(tmp_path):
    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        conversation = long_chat(services.store, turns=20)
        first_id = services.store.load_messages(conversation.id)[0].id
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await chat_open(app, pilot)
                await pilot.press("ctrl+o", "g")  # the oldest message on screen
                # Its focus lands once the pane has scrolled there (a loaded run read the
                # focus a frame early).
                await wait_until(pilot, lambda: isinstance(app.screen.focused, UserBlock)
                                 and app.screen.focused.message.id == first_id,
                                 what="the oldest message focused")
                block = app.screen.focused
                assert isinstance(block, UserBlock)
                assert any(b.key == "p" and b.action == "pin_block"
                           for b in app.screen.active_bindings.values()
                           for b in [b.binding]), "the footer offers the pin key"
                message_id = block.message.id

                def stored_pin() -> bool:
                    return next(m for m in services.store.load_messages(conversation.id)
                                if m.id == message_id).pinned

                await pilot.press("p")
                await wait_until(pilot, stored_pin, what="the pin stored")
                await wait_until(pilot, lambda: "pinned" in str(
                    block.query_one(".block-header").render()), what="the pin mark")
                # The meter follows: its plan now sends the pinned message.
                await wait_until(pilot, lambda: app.main.meter is not None
                                 and app.main.meter.plan is not None
                                 and message_id in app.main.meter.plan.pinned_ids,
                                 what="the meter's plan")
                screen = await open_preview(app, pilot)
                fate = {i.message_id: i.fate for i in screen.preview.items}[message_id]
                assert fate == "pinned"
                await pilot.press("escape")
                await wait_until(pilot, lambda: app.screen is app.main)
                block.focus()
                await pilot.press("p")
                await wait_until(pilot, lambda: not stored_pin(), what="the pin removed")
                await wait_until(pilot, lambda: "pinned" not in str(
                    block.query_one(".block-header").render()), what="the mark gone")
        finally:
            await services.aclose()


async def test_a_stored_reply_cut_by_the_window_is_not_called_the_output_limit(
        tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    store = services.store
    conversation = store.create_conversation(model="gpt-4o-mini", title="Cut")
    store.update_conversation(conversation.id, context_window=512)
    store.append_message(conversation.id, Role.USER, "tell me everything")
    reply = store.append_message(conversation.id, Role.ASSISTANT, "it goes on and",
                                 model="gpt-4o-mini")
    store.update_message(reply.id, finish_reason="length", prompt_tokens=400,
                         completion_tokens=112)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await chat_open(app, pilot)
            block = app.main.pane.block(reply.id)
            assert isinstance(block, AssistantBlock)
            await wait_until(pilot, lambda: "context window" in str(
                block.query_one(".block-header").render()), what="the finish note")
            assert "output token limit" not in str(block.query_one(".block-header").render())
    finally:
        await services.aclose()


async def test_a_live_reply_that_fills_the_window_says_so(tmp_path):
    with llama_server(context_window=256, reply="rivers " * 400) as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                app.main.composer.insert("hello there")
                await pilot.press("enter")
                await wait_until(pilot, lambda: server.chat_log()
                                 and server.chat_log()[-1].finish_reason == "length",
                                 what="a reply cut by the window")
                await app.workers.wait_for_complete()

                def header() -> str:
                    replies = [b for b in app.main.pane.blocks if isinstance(b, AssistantBlock)]
                    return str(replies[-1].query_one(".block-header").render()) if replies else ""

                await wait_until(pilot, lambda: "end of the model's context window" in header(),
                                 what="the window's note")
                assert "output token limit" not in header()
        finally:
            await services.aclose()


async def test_status_line_shows_where_the_window_came_from(tmp_path):
    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        long_chat(services.store, turns=2)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await chat_open(app, pilot)
                await wait_until(pilot, lambda: "512 (server)" in meter_text(app),
                                 what="the server's window")
                await wait_until(pilot, lambda: not meter_text(app).startswith("≈"),
                                 what="exact counts")
        finally:
            await services.aclose()


async def test_an_unsaved_new_chat_is_metered_before_its_first_send(tmp_path):
    """The meter, the window and a draft too long for it show in a new chat before anything
    is stored (it used to show nothing until the first message was sent)."""
    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                assert app.main.conversation is None and app.main.new_chat is not None
                await wait_until(pilot, lambda: "512 (server)" in meter_text(app),
                                 what="the server's window on the unsaved chat")
                app.main.composer.insert("word " * 600)
                await wait_until(pilot, lambda: app.main.meter is not None
                                 and app.main.meter.refusal(app.main.composer.full_text) is not None,
                                 what="the draft measured against the window")
                assert services.store.count_conversations() == 0, "nothing stored"
        finally:
            await services.aclose()


async def test_a_draft_is_counted_by_a_server_that_counts_once_typing_pauses(tmp_path):
    """The meter of a first message read the local count with the window the server gave
    (711 / 512 for a paste llama.cpp counted as 1.2k, seen in tmux): the server counts
    the draft when typing pauses, and the meter shows its count. Nothing is stored."""
    draft = "rivers flow to the sea " * 30
    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                tokenizer = services.flow.knowledge.tokenizer(LLAMA)
                await wait_until(pilot, lambda: tokenizer.supported and app.main.meter,
                                 what="the probe and the meter")
                app.main.composer.insert(draft)
                exact = server.count_prompt([{"role": "user", "content": draft}])
                await wait_until(pilot, lambda: app.main.status.reading is not None
                                 and abs(app.main.status.reading.tokens - exact) <= 2,
                                 what="the server's count of the draft on the meter")
                # Summed per message, as the meter does, the template may differ by a
                # token from the whole request's count; the local guess was half of it.
                assert app.main.status.reading.exact
                assert services.store.count_conversations() == 0
                assert tokenizer.known(draft) is not None
                await pilot.press("enter")
                await wait_until(pilot, lambda: server.chat_log() and not app.main.replies,
                                 what="the reply")
                assert server.chat_log()[0].prompt_tokens == exact
                # The send took the draft's count as it was, not asking for it again.
                assert len([r for r in server.requests if r.path == "/tokenize"
                            and (r.body or {}).get("content") == draft]) == 1
        finally:
            await services.aclose()


async def test_a_new_reply_is_counted_by_a_server_that_counts(tmp_path):
    """The meter reads as exact on llama.cpp, but a reply had the calibrated guess (with
    its slack) until the next send or the chat's next opening: the server counts it now."""
    reply = "rivers flow to the sea and the sea " * 12
    with llama_server(reply=reply) as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                tokenizer = services.flow.knowledge.tokenizer(LLAMA)
                await wait_until(pilot, lambda: tokenizer.supported, what="the probe")
                await type_and_send(pilot, "tell me about rivers")
                await wait_until(pilot, lambda: not app.main.replies
                                 and tokenizer.known(reply) is not None, timeout=10,
                                 what="the reply counted by the server")
                fresh = services.context_for(app.main.conversation).meter.reading("")
                await wait_until(pilot, lambda: app.main.status.reading.tokens == fresh.tokens,
                                 what="the meter showing the server's count")
                assert fresh.exact
        finally:
            await services.aclose()


async def test_status_line_marks_a_guessed_window_and_estimated_counts(tmp_path, fake_openai):
    fake_openai.models = ["mystery-model"]
    services = make_services(tmp_path, fake_openai.base_url, model="mystery-model")
    long_chat(services.store, turns=1, model="mystery-model")
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await chat_open(app, pilot)
            await wait_until(pilot, lambda: "(guess?)" in meter_text(app), what="a guess")
            assert meter_text(app).startswith("≈")
    finally:
        await services.aclose()


def a_chat_with_a_learned_window(tmp_path, base_url: str):
    """(services, app): a gpt-4o-mini chat whose window, 1k, was learned from an error."""
    services = make_services(tmp_path, base_url)
    services.store.set_model_window("gpt-4o-mini", 1024, source="error", base_url=base_url)
    long_chat(services.store, turns=1, model="gpt-4o-mini")
    return services, make_app(services)


def forget_window_command(app):
    return next(c for c in app.get_system_commands(app.screen)
                if c.title == "Forget learned window")


async def test_forget_learned_window_from_the_palette(tmp_path, fake_openai):
    services, app = a_chat_with_a_learned_window(tmp_path, fake_openai.base_url)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await chat_open(app, pilot)
            await wait_until(pilot, lambda: "1k (learned)" in meter_text(app),
                             what="the learned window")
            command = forget_window_command(app)
            command.callback()
            await wait_until(pilot, lambda: "/ 128k " in meter_text(app),
                             what="the table's window")
            assert "(learned)" not in meter_text(app)
            assert services.store.list_model_windows() == []
            assert any("Forgot the window learned for gpt-4o-mini" in n.message
                       for n in app._notifications)
            # Nothing left to forget: said plainly, nothing breaks.
            command.callback()
            await wait_until(pilot, lambda: any("No window was learned" in n.message
                                                for n in app._notifications),
                             what="nothing to forget")
    finally:
        await services.aclose()


async def test_a_forgotten_window_is_asked_of_the_server_again(tmp_path, fake_openai):
    """Forgetting a window (the server restarted with another, say) left the guess for the
    rest of the session: the server had been asked once already. It is asked again at once."""
    fake_openai.props_n_ctx = 4096  # a llama.cpp server that says its window
    services, app = a_chat_with_a_learned_window(tmp_path, fake_openai.base_url)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await chat_open(app, pilot)
            # The first probe of the session already answers 4k: the error's 1k is older.
            services.store.set_model_window("gpt-4o-mini", 1024, source="error",
                                            base_url=fake_openai.base_url)
            fake_openai.props_n_ctx = 2048  # restarted with another window
            forget_window_command(app).callback()
            await wait_until(pilot, lambda: "/ 2k " in meter_text(app),
                             what="the window the server says now")
            assert any("Forgot the window learned for gpt-4o-mini" in n.message
                       and "2k" in n.message for n in app._notifications)
            stored = services.store.get_model_window("gpt-4o-mini", fake_openai.base_url)
            assert stored == 2048
    finally:
        await services.aclose()


def test_a_plain_length_finish_is_not_called_the_output_limit():
    """Without the reasons (no window known), "length" is reported as the server's word."""
    message = Message(id="01", conversation_id="c", role=Role.ASSISTANT, content="x",
                      pinned=True, finish_reason="length")
    header = _assistant_header(message)
    assert PIN_MARK in header and "finish_reason: length" in header
    assert "output token limit" not in header
    assert "output token limit" in _assistant_header(
        message, "the reply was cut at the output token limit")


def services_with_a_chat(tmp_path):
    """Services (no server listening) and a stored chat with one message."""
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    chat = services.store.create_conversation(model="gpt-4o-mini", title="open")
    services.store.append_message(chat.id, Role.USER, "hello")
    return services, chat


async def test_a_meter_reading_due_while_the_app_quits_is_dropped(tmp_path):
    """The meter's reading arrived after the screen's widgets were gone (quitting right after
    a send): it used to raise NoMatches in a worker and fail the app's exit."""
    services, chat = services_with_a_chat(tmp_path)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main
        await wait_until(pilot, lambda: screen.context.meter is not None, what="the meter")
        await screen.composer.remove()
        screen.context.show_reading()  # no composer to read: nothing to show, no error
        assert app.is_running
    await services.aclose()


async def test_a_prompt_history_read_while_the_app_quits_is_dropped(tmp_path):
    """The same for the composer's earlier prompts, read in a worker (a full run failed once
    at a test's exit: NoMatches 'Composer')."""
    services, chat = services_with_a_chat(tmp_path)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main
        await pilot.pause()
        await screen.composer.remove()
        screen.compose_tools.load_history(chat.id)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
    await services.aclose()


async def test_a_meter_reading_due_after_the_status_line_went_is_dropped(tmp_path):
    """The same at exit with the status line's labels gone first (it failed a full test run
    once, in a worker: NoMatches '#status-meter')."""
    services, chat = services_with_a_chat(tmp_path)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main
        await wait_until(pilot, lambda: screen.context.meter is not None, what="the meter")
        screen.status.reading = None
        await screen.status.query_one("#status-meter").remove()
        screen.composer.insert("a new draft")  # the reading changes: the label is needed
        screen.context.show_reading()
        assert app.is_running
    await services.aclose()


async def test_preview_shows_markup_literally_and_each_fate_whole(tmp_path):
    """A message or title with Rich markup in it ("[/]" ended the app: a DataTable reads a
    str cell as markup), and fate words cut to the header's width ("summ", "drop")."""
    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        store = services.store
        conversation = store.create_conversation(model=LLAMA, title="close [/] now",
                                                 strategy=Strategy.TRUNCATE)
        for i in range(20):
            store.append_message(conversation.id, Role.USER,
                                 f"[red]q{i}[/red] close [/] " + "tell me about rivers " * 3)
            store.append_message(conversation.id, Role.ASSISTANT,
                                 f"[bold]a{i}[/bold] " + "rivers flow to the sea " * 3,
                                 model=LLAMA)
        app = make_app(services)
        try:
            async with app.run_test(size=(130, 40)) as pilot:
                await chat_open(app, pilot)
                screen = await open_preview(app, pilot)
                await wait_until(pilot, lambda: screen.preview is not None)
                # The table scrolls to its newest row a refresh or two after it is filled.
                table = screen.query_one(DataTable)
                await wait_until(pilot, lambda: table.max_scroll_y > 0
                                 and table.scroll_y == table.max_scroll_y,
                                 what="the table scrolled to its newest row")
                text = screen_text(app)
                assert "Next request · close [/] now" in text
                assert "[red]q19[/red] close [/]" in text
                assert "[bold]a19[/bold]" in text
                fates = {item.fate for item in screen.preview.items}
                assert "dropped" in fates and "sent" in fates
                rows = [line for line in text.splitlines() if " assistant " in line]
                assert rows and all(" sent " in row or " dropped " in row for row in rows)
        finally:
            await services.aclose()


async def test_the_preview_shows_its_newest_row_when_the_table_is_measured_late(
        tmp_path, monkeypatch):
    """The table measures its new rows when it is next idle; the scroll to the newest row
    that moving its cursor schedules ran first now and then (a loaded CI run) and found
    nothing to scroll, and the preview stayed at its first rows."""
    from textual.widgets import DataTable

    measure = DataTable._update_dimensions

    def measured_late(table, new_rows):
        rows = list(new_rows)
        table.set_timer(0.3, lambda: measure(table, rows))

    monkeypatch.setattr(DataTable, "_update_dimensions", measured_late)
    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        long_chat(services.store, turns=20)
        app = make_app(services)
        try:
            async with app.run_test(size=(130, 40)) as pilot:
                await chat_open(app, pilot)
                screen = await open_preview(app, pilot)
                table = screen.query_one(DataTable)
                await wait_until(pilot, lambda: table.max_scroll_y > 0
                                 and table.scroll_y == table.max_scroll_y,
                                 what="the table scrolled to its newest row")
                assert table.cursor_row == len(screen.preview.items) - 1
        finally:
            await services.aclose()


async def test_the_preview_keeps_its_cursor_row_in_view_when_the_table_shrinks(tmp_path):
    """The table gets shorter after it scrolled to its newest row: the facts above it grow
    from "Computing…" to four lines a layout later (a loaded CI run scrolled first and the
    newest rows ended below the view), or the terminal gets smaller."""
    from textual.widgets import DataTable

    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        long_chat(services.store, turns=20)
        app = make_app(services)
        try:
            async with app.run_test(size=(130, 40)) as pilot:
                await chat_open(app, pilot)
                screen = await open_preview(app, pilot)
                table = screen.query_one(DataTable)
                await wait_until(pilot, lambda: table.max_scroll_y > 0
                                 and table.scroll_y == table.max_scroll_y,
                                 what="the table scrolled to its newest row")
                before = table.max_scroll_y
                await pilot.resize_terminal(130, 30)
                await wait_until(pilot, lambda: table.max_scroll_y > before,
                                 what="the shorter table")
                await pilot.pause()
                assert table.scroll_y == table.max_scroll_y
                assert table.cursor_row == len(screen.preview.items) - 1
        finally:
            await services.aclose()


async def test_the_preview_leaves_its_table_rows_on_a_small_screen(tmp_path):
    """At 60x20 the title, the facts and the summary around the table left it a single row,
    seen in tmux as a lone scrollbar block: under 30 rows the dialog drops its spacing."""
    from textual.widgets import DataTable

    with llama_server() as server:
        services = make_services(tmp_path, server.base_url, model=LLAMA)
        conversation = long_chat(services.store, turns=20, strategy=Strategy.SUMMARIZE)
        old = services.store.load_messages(conversation.id)[:8]
        services.store.add_summary(conversation.id, "The user asked about rivers. " * 4,
                                   first_message_id=old[0].id, last_message_id=old[-1].id,
                                   covered_count=8, token_count=30)
        app = make_app(services)
        try:
            async with app.run_test(size=(60, 20)) as pilot:
                await chat_open(app, pilot)
                screen = await open_preview(app, pilot)
                await pilot.pause()
                table = screen.query_one(DataTable)
                assert table.region.height >= 5
                facts = screen.query_one("#preview-facts")
                assert facts.region.height >= 5 and facts.region.bottom <= table.region.y
                assert table.region.bottom <= screen.query_one("#preview-dialog").region.bottom
        finally:
            await services.aclose()
