"""Usage per reply and in totals: the server's figures, never invented; prices, never guessed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.fake_openai.scripts import Script
from tui import cli
from tui.core.chat import ChatFlow, collect
from tui.core.client import ChatClient
from tui.core.config import ConfigError, Settings, load_settings
from tui.core.models import Message, Role, Strategy
from tui.core.pricing import BUILT_IN, FREE, Price, PriceError, format_cost, parse_prices, \
    price_for
from tui.core.store import Store
from tui.core.tokens import TokenCounter
from tui.core.usage import grand_total, reply_usage_text, tokens_per_second, usage_totals

OPENAI = "https://api.openai.com/v1"


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "usage.db") as store:
        yield store


async def chat(store: Store, fake_openai, *turns: tuple[str | None, str],
               auto_title: bool = False, setup: Callable[[str], None] | None = None
               ) -> list[str]:
    """Send each (conversation id or None for a new one, text); the conversation ids.
    ``setup`` gets each new conversation's id before its first message."""
    client = ChatClient(base_url=fake_openai.base_url, api_key=None)
    flow = ChatFlow(store, client, TokenCounter("gpt-4o"),
                    Settings(model="gpt-4o", base_url=fake_openai.base_url,
                             auto_title=auto_title))
    ids = []
    try:
        for cid, text in turns:
            target = cid
            if target is None:
                target = flow.new_conversation().id
                if setup is not None:
                    setup(target)
            await collect(flow.send(target, text))
            ids.append(target)
    finally:
        await client.aclose()
    return ids


# -- per reply ------------------------------------------------------------------------------

async def test_a_reply_stores_the_servers_usage_timing_and_server(store, fake_openai):
    fake_openai.cached_tokens = 5
    fake_openai.script(Script.reply("one two three four five six seven"))
    [cid] = await chat(store, fake_openai, (None, "count to seven"))
    reply = store.load_messages(cid)[-1]
    served = fake_openai.chat_log()[-1]
    assert (reply.prompt_tokens, reply.completion_tokens, reply.cached_tokens) == \
        (served.prompt_tokens, served.completion_tokens, 5)
    assert reply.first_token_ms is not None and reply.duration_ms is not None
    assert 0 <= reply.first_token_ms <= reply.duration_ms
    assert reply.server == fake_openai.base_url.rstrip("/")
    text = reply_usage_text(reply)
    assert f"{served.prompt_tokens:,} in (5 cached)" in text
    assert f"{served.completion_tokens:,} out" in text and "first token" in text


async def test_a_server_that_sends_no_usage_leaves_it_unknown(store, fake_openai):
    fake_openai.sends_usage = False
    fake_openai.script(Script.reply("hello there"))
    [cid] = await chat(store, fake_openai, (None, "hi"))
    assert fake_openai.chat_requests()[-1]["stream_options"] == {"include_usage": True}
    reply = store.load_messages(cid)[-1]
    assert (reply.prompt_tokens, reply.completion_tokens, reply.cached_tokens) == \
        (None, None, None)
    assert tokens_per_second(reply) is None
    assert reply_usage_text(reply).startswith("usage not reported by the server")
    [total] = usage_totals(store, {"gpt-4o": Price(1, 1)}, by="conversation")
    assert (total.replies, total.reported, total.unreported, total.prompt_tokens) == (1, 0, 1, 0)
    assert total.cost is None and total.cost_text() == "unknown"


def test_tokens_per_second_uses_the_generation_time():
    message = Message(id="m", conversation_id="c", role=Role.ASSISTANT, content="x",
                      completion_tokens=100, first_token_ms=500, duration_ms=2500)
    assert tokens_per_second(message) == 50.0
    assert "50.0 tok/s" in reply_usage_text(message)
    message.completion_tokens = None
    assert tokens_per_second(message) is None


# -- totals ---------------------------------------------------------------------------------

async def test_totals_match_the_servers_usage_figures(store, fake_openai):
    fake_openai.cached_tokens = 3
    first, _, second = await chat(store, fake_openai, (None, "hello"), (None, "another chat"),
                                  (None, "third"))
    await chat(store, fake_openai, (first, "follow up"))
    log = [r for r in fake_openai.chat_log() if r.is_chat]
    prices = {"gpt-4o": Price(input=2.0, output=8.0, cached=1.0)}
    totals = usage_totals(store, prices, by="conversation")
    total = grand_total(totals)
    assert total.replies == total.reported == 4
    assert total.prompt_tokens == sum(r.prompt_tokens for r in log)
    assert total.completion_tokens == sum(r.completion_tokens for r in log)
    assert total.cached_tokens == 3 * 4
    expected = sum((r.prompt_tokens - 3) * 2.0 + 3 * 1.0 + r.completion_tokens * 8.0
                   for r in log) / 1_000_000
    assert total.cost == pytest.approx(expected)
    assert totals[0].key == first, "the conversation with the newest reply first"
    by_conversation = {t.key: t for t in totals}
    assert by_conversation[first].replies == 2 and by_conversation[second].replies == 1


async def test_summary_and_title_requests_are_in_the_totals(store, fake_openai):
    """They cost tokens like replies: every chat request the server billed is counted once."""
    fake_openai.context_window = 400
    fake_openai.reply = lambda messages: "reply " + "lorem ipsum dolor " * 8

    def small_window(cid: str) -> None:
        store.update_conversation(cid, strategy=Strategy.SUMMARIZE, max_output_tokens=64,
                                  context_window=400)

    [cid] = await chat(store, fake_openai, (None, "turn 0: " + "tell me more " * 6),
                       auto_title=True, setup=small_window)
    for turn in range(1, 8):
        await chat(store, fake_openai, (cid, f"turn {turn}: " + "tell me more " * 6))
    billed = fake_openai.chat_log()
    side = [r for r in billed if not r.body.get("stream")]
    assert store.list_summaries(cid), "the window made it summarize"
    assert len(side) >= 2, "a title and at least one summary"
    prices = {"gpt-4o": Price(input=1.0, output=1.0)}
    [total] = usage_totals(store, prices, by="conversation")
    assert (total.replies, total.side, total.side_reported) == (8, len(side), len(side))
    assert total.prompt_tokens == sum(r.prompt_tokens for r in billed)
    assert total.completion_tokens == sum(r.completion_tokens for r in billed)
    assert total.cost == pytest.approx(
        sum(r.prompt_tokens + r.completion_tokens for r in billed) / 1_000_000)
    assert total.requests_text() == f"8 + {len(side)} summary/title"
    record = total.record()
    assert record["replies"] == 8 and record["summary_and_title_requests"] == len(side)
    assert record["replies_without_usage"] == 0
    kinds = store.run(lambda conn: [k for (k,) in conn.execute(
        "SELECT kind FROM side_requests ORDER BY id")])
    assert kinds[0] == "title" and set(kinds[1:]) == {"summary"}
    # Deleting the chat takes its side requests with it, as it takes its replies.
    store.delete_conversation(cid)
    assert usage_totals(store, prices, by="day") == []


async def test_a_title_request_without_usage_counts_as_unreported(store, fake_openai):
    fake_openai.sends_usage = False
    await chat(store, fake_openai, (None, "what is a balcony garden"), auto_title=True)
    [total] = usage_totals(store, {"gpt-4o": Price(1, 1)}, by="month")
    assert (total.replies, total.side, total.unreported) == (1, 1, 2)
    assert total.cost is None and total.requests_text() == "1 + 1 summary/title (2 no usage)"


async def test_days_and_months(store, fake_openai):
    ids = await chat(store, fake_openai, (None, "a"), (None, "b"), (None, "c"))
    for cid, created in zip(ids, ("2026-01-31T23:00:00.000Z", "2026-02-01T01:00:00.000Z",
                                  "2026-02-14T12:00:00.000Z")):
        store.conn.execute("UPDATE messages SET created = ? WHERE conversation_id = ?",
                           (created, cid))
    days = usage_totals(store, {}, by="day")
    assert [d.key for d in days] == ["2026-02-14", "2026-02-01", "2026-01-31"]
    months = usage_totals(store, {}, by="month")
    assert [(m.key, m.replies) for m in months] == [("2026-02", 2), ("2026-01", 1)]
    assert all(m.cost is None for m in months), "the test server's model has no price"


async def test_a_model_missing_from_the_price_table_shows_no_invented_cost(store, fake_openai):
    fake_openai.script(Script.reply("priced"), Script.reply("free"), Script.reply("unknown"))
    ids = await chat(store, fake_openai, (None, "x"), (None, "y"), (None, "z"))
    models = ("gpt-4o", "local-llama", "mystery-model")
    for cid, model in zip(ids, models):
        store.conn.execute("UPDATE messages SET model = ? WHERE conversation_id = ?",
                           (model, cid))
    prices = {"gpt-4o": Price(1.0, 1.0), "local-llama": FREE}
    by_id = {t.key: t for t in usage_totals(store, prices, by="conversation")}
    assert by_id[ids[0]].cost and by_id[ids[0]].cost > 0
    assert by_id[ids[1]].cost == 0 and by_id[ids[1]].cost_text() == "$0"
    assert by_id[ids[2]].cost is None and by_id[ids[2]].cost_text() == "unknown"
    total = grand_total(list(by_id.values()))
    assert total.unpriced == 1 and total.cost_text().endswith("+ 1 unpriced")
    # Even gpt-4o has no built-in price on a server that is not OpenAI's.
    assert usage_totals(store, {}, by="month")[0].cost is None


# -- the price table ------------------------------------------------------------------------

def test_built_in_prices_apply_only_on_openais_api():
    assert price_for("gpt-4o-mini", OPENAI) == BUILT_IN["gpt-4o-mini"]
    assert price_for("gpt-4o-mini-2024-07-18", OPENAI) == BUILT_IN["gpt-4o-mini"]
    assert price_for("gpt-4o-2024-08-06", OPENAI) == BUILT_IN["gpt-4o"]
    assert price_for("gpt-4o-mini", "http://localhost:11434/v1") is None
    assert price_for("llama3.1:8b", OPENAI) is None
    assert price_for("gpt-4o", None) is None, "an unknown server: only the config prices"


def test_config_prices_override_per_model_and_per_server(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[prices]\n"gpt-4o" = { input = 1, output = 2 }\n'
                    '"http://localhost:11434/v1/" = 0\n', encoding="utf-8")
    prices = load_settings(env={}, path=path).prices
    assert price_for("gpt-4o", OPENAI, prices) == Price(1.0, 2.0)
    assert price_for("qwen", "http://LOCALHOST:11434/v1", prices) == FREE
    assert price_for("qwen", "http://localhost:8080/v1", prices) is None
    assert Price(2.0, 8.0, 0.5).cost(1_000_000, 500_000, 200_000) == \
        pytest.approx(0.8 * 2 + 0.2 * 0.5 + 0.5 * 8)


@pytest.mark.parametrize("table, reason", [
    ({"m": 1.5}, "may only be 0"),
    ({"m": {"input": 1}}, "needs output"),
    ({"m": {"input": -1, "output": 1}}, "0 or more"),
    ({"m": {"input": 1, "output": 1, "cache": 1}}, "unknown field"),
    ({"m": "cheap"}, "must be 0 or a table"),
])
def test_bad_prices_are_refused_with_the_reason(table, reason):
    with pytest.raises(PriceError, match=reason):
        parse_prices(table, "prices")


def test_a_bad_price_in_the_config_is_a_one_line_error(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[prices]\n"gpt-4o" = { input = "a lot", output = 1 }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.toml: prices.gpt-4o.input must be a number"):
        load_settings(env={}, path=path)


def test_costs_read_as_money():
    assert [format_cost(v) for v in (None, 0, 0.00001, 0.00042, 0.5, 12.345, 1234.5)] == \
        ["unknown", "$0", "<$0.0001", "$0.0004", "$0.50", "$12.35", "$1,234"]


# -- gpt-tui usage --------------------------------------------------------------------------

async def test_the_usage_command_prints_a_table_and_json(store, fake_openai, capsys, tmp_path):
    fake_openai.cached_tokens = 2
    [cid] = await chat(store, fake_openai, (None, "hello"))
    served = fake_openai.chat_log()[-1]
    db = str(store.path)
    assert cli.main(["--db", db, "usage", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["by"] == "conversation"
    [row] = report["rows"]
    assert (row["key"], row["replies"], row["prompt_tokens"], row["completion_tokens"],
            row["cached_tokens"], row["cost_usd"]) == \
        (cid, 1, served.prompt_tokens, served.completion_tokens, 2, None)
    assert report["total"]["prompt_tokens"] == served.prompt_tokens
    assert cli.main(["--db", db, "usage", "--by", "month"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("MONTH") and out[-1].startswith("total")
    assert out[-1].rstrip().endswith("unknown")
    assert cli.main(["--db", db, "usage", "-c", "NOPE"]) == 2
    assert "no conversation" in capsys.readouterr().err
    assert cli.main(["--db", str(tmp_path / "none.db"), "usage"]) == 0
    assert "no replies yet" in capsys.readouterr().err


async def test_the_usage_table_lines_up_wide_titles_and_side_requests(store, fake_openai,
                                                                     capsys):
    # A CJK title (two cells a character) pushed every column after it out of line, and
    # "1 + 1 summary/title" in REPLIES was wider than the column.
    cids = await chat(store, fake_openai, (None, "hello"), (None, "again"), auto_title=True)
    store.update_conversation(cids[0], title="東京から大阪までの距離はどれくらいですか詳しく説明して")
    store.update_conversation(cids[1], title="plain title")
    assert cli.main(["--db", str(store.path), "usage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("東京" in line for line in lines) and any("summary/title" in line for line in lines)
    # Where the last column (COST) starts, in terminal cells: the same on every line.
    starts = {cell_len(line.rstrip()[: -len(line.split()[-1])]) for line in lines}
    assert len(starts) == 1, "\n".join(lines)
