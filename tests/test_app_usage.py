"""Usage in the app: on a reply's header (u), the usage panel (F12), the next send's cost."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Label

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.pricing import FREE, Price, format_cost
from tui.ui.screens.usage_panel import UsagePanelScreen
from tui.ui.widgets.message_blocks import AssistantBlock


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


async def send(pilot, text: str) -> None:
    app = pilot.app
    before = len(app.main.pane.query(AssistantBlock))
    app.main.composer.focus()
    app.main.composer.insert(text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: not app.main.streams and len(
        app.main.pane.query(AssistantBlock)) > before, what="the reply")


def header(block: AssistantBlock) -> str:
    return str(block.query_one(".block-header", Label).render())


async def test_u_shows_each_replys_usage_on_its_header(services, fake_openai):
    fake_openai.cached_tokens = 4
    services.settings.prices = {"gpt-4o-mini": Price(input=100.0, output=200.0)}
    fake_openai.script(Script.reply("a short reply here"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        [block] = app.main.pane.query(AssistantBlock)
        served = fake_openai.chat_log()[-1]
        assert "cached" not in header(block), "hidden until asked for"
        await pilot.press("ctrl+o", "u")
        await wait_until(pilot, lambda: "cached" in header(block))
        text = header(block)
        assert f"{served.prompt_tokens:,} in (4 cached)" in text
        assert f"{served.completion_tokens:,} out" in text and "first token" in text
        cost = Price(100.0, 200.0).cost(served.prompt_tokens, served.completion_tokens, 4)
        assert text.rstrip().endswith(format_cost(cost))
        await pilot.press("u")
        await wait_until(pilot, lambda: "cached" not in header(block))
        # The command palette has it too.
        [command] = [c for c in app.get_system_commands(app.main)
                     if c.title == "Show / hide usage on replies"]
        command.callback()
        await wait_until(pilot, lambda: "cached" in header(block))


async def test_the_usage_panel_lists_totals_per_conversation_day_and_month(services,
                                                                          fake_openai):
    services.settings.prices = {"gpt-4o-mini": Price(input=1.0, output=2.0)}
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first chat")
        await pilot.press("ctrl+n")
        await send(pilot, "second chat")
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, UsagePanelScreen)
                         and app.screen.query_one(DataTable).row_count == 2,
                         what="two conversations in the panel")
        panel = app.screen
        log = [r for r in fake_openai.chat_log() if r.is_chat]
        cost = sum(r.prompt_tokens * 1.0 + r.completion_tokens * 2.0 for r in log) / 1e6
        total = str(panel.query_one("#usage-total", Label).render())
        assert f"{sum(r.prompt_tokens for r in log):,} prompt" in total
        assert format_cost(cost) in total
        await pilot.press("m")
        await wait_until(pilot, lambda: panel.query_one(DataTable).row_count == 1
                         and panel.query_one(DataTable).columns["what"].label.plain == "Month")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main)


async def test_the_status_line_shows_the_next_sends_cost_only_with_a_price(services,
                                                                          fake_openai):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        cost = app.main.status.query_one("#status-cost", Label)
        await pilot.pause()
        assert not cost.display, "no price for the model: no cost, not $0"
        services.settings.prices = {"gpt-4o-mini": Price(input=3.0, output=9.0)}
        app.main.composer.insert("a draft to send next")
        await wait_until(pilot, lambda: cost.display, what="the cost")
        reading = app.main.meter.reading(app.main.composer.text)
        expected = format_cost(Price(3.0, 9.0).cost(reading.tokens, 0))
        await wait_until(pilot, lambda: str(cost.render()) == f"send ≈{expected}")
        services.settings.prices = {"gpt-4o-mini": FREE}
        app.main.composer.insert(" more")
        await wait_until(pilot, lambda: str(cost.render()) == "send ≈$0")


async def test_the_usage_total_wraps_in_a_small_terminal(services, fake_openai):
    # At 60x20 the total line ("Total: 2 replies · 10 prompt (0 cached) · 1,501 …") was cut.
    services.settings.prices = {"gpt-4o-mini": Price(input=1.0, output=2.0)}
    app = make_app(services)
    async with app.run_test(size=(60, 20)) as pilot:
        await send(pilot, "first chat")
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, UsagePanelScreen)
                         and "prompt" in str(app.screen.query_one("#usage-total").render()),
                         what="the panel's total")
        await pilot.pause()
        total = app.screen.query_one("#usage-total", Label)
        assert len(str(total.render())) > total.parent.content_size.width  # the case at hand
        assert total.outer_size.width <= total.parent.content_size.width
        assert total.size.height >= 2


async def test_the_usage_panel_sizes_wide_titles_in_cells(services, fake_openai):
    """A title in CJK (two cells a character) was given a column as wide as its characters:
    half of it showed."""
    app = make_app(services)
    async with app.run_test(size=(130, 40)) as pilot:
        await send(pilot, "川の流れについて教えてください")
        title = app.main.conversation.title
        await pilot.press("ctrl+n")
        await send(pilot, "東京から大阪までの距離はどれくらいですか、詳しく説明してください")
        long_title = app.main.conversation.title
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, UsagePanelScreen)
                         and app.screen.query_one(DataTable).row_count == 2)
        await pilot.pause()
        text = screen_text(app)
        assert title in text
        shown = [line for line in text.splitlines() if long_title[:8] in line]
        assert shown, text
        if len(long_title) * 2 > 40:  # cut to the column: 39 cells and an ellipsis
            assert "…" in shown[0]
        else:
            assert long_title in shown[0]
