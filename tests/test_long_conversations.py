"""Issue 8's "Done means": 200 turns per strategy against a server that counts like llama.cpp.

The server is as awkward as a small llama-server: a tokenizer that counts about twice what
tiktoken does (and not in proportion), a 512-token window it reports at /props and enforces
with llama.cpp's own error, replies cut at the end of the window, /tokenize and
/apply-template, and summary replies that come back too long or cut. Every 25th prompt
(~300 words) cannot fit the window on its own; those turns are counted apart.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.fake_openai import FakeOpenAI, Script
from tests.fake_openai.proxy import Exchange, RecordingProxy
from tests.long_run import LongRunFigures, make_prompts, run_long_conversation, short_reply

TURNS = 200
# Every fifth summary misbehaves one way or the other.
SUMMARY_REPLIES = ["short", "short", "long", "short", "cut"]


def awkward_server() -> FakeOpenAI:
    return FakeOpenAI(tokenizer="foreign", flavor="llamacpp", context_window=512,
                      models=["tiny-llama"], reply=short_reply, summary_replies=SUMMARY_REPLIES)


async def long_run(strategy: str) -> tuple[LongRunFigures, FakeOpenAI]:
    with awkward_server() as server:
        figures = await run_long_conversation(server.base_url, model="tiny-llama",
                                              strategy=strategy, turns=TURNS, fake=server)
    return figures, server


@pytest.mark.parametrize("strategy", ["summarize", "truncate"])
async def test_two_hundred_turns_never_overflow(strategy: str) -> None:
    figures, server = await long_run(strategy)
    print(figures.table())
    # the harness saw what the server saw
    assert figures.overflows == sum(r.too_long for r in server.chat_log())
    assert figures.too_big_turns == list(range(25, TURNS + 1, 25))

    assert figures.failed_turns == []
    assert figures.overflows <= 1
    assert figures.total("summary_overflows") == 0
    assert figures.cut_summaries_stored == 0
    assert figures.preview_mismatches == []
    assert figures.preview_checked >= TURNS // 4


# --- the harness itself (kept honest on today's core) -----------------------------------------


def test_prompts_are_deterministic_and_sized() -> None:
    prompts = make_prompts(100)
    assert prompts == make_prompts(100) and prompts != make_prompts(100, seed=9)
    sizes = [len(p.split()) for p in prompts]
    assert all(290 <= n <= 310 for n in sizes[24::25])
    assert all(20 <= n <= 120 for i, n in enumerate(sizes) if (i + 1) % 25)
    assert len(set(prompts)) == 100


async def test_harness_measures_a_server_that_counts_like_tiktoken(fake_openai: FakeOpenAI
                                                                   ) -> None:
    fake_openai.reply = short_reply
    figures = await run_long_conversation(fake_openai.base_url, model="gpt-4o-mini",
                                          strategy="truncate", turns=6)
    assert [t.number for t in figures.turns] == [1, 2, 3, 4, 5, 6]
    assert figures.failed_turns == [] and figures.overflows == 0
    assert figures.total("chat_requests") == 6 and figures.preview_checked == 6
    assert figures.preview_mismatches == []
    turn, error = figures.count_error(5) or (0, 1.0)
    assert turn == 5 and abs(error) < 0.05  # tiktoken planner, tiktoken server
    assert figures.turns[4].server_count == fake_openai.chat_log()[4].prompt_tokens
    assert "count error after turn 5" in figures.table()


async def test_harness_counts_refusals_and_the_servers_count(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script.context_length_exceeded(4000, 5000))
    figures = await run_long_conversation(fake_openai.base_url, model="gpt-4o-mini",
                                          strategy="truncate", turns=1, prompts=["Hello there."])
    turn = figures.turns[0]
    assert turn.chat_overflows == 1 and turn.chat_requests >= 1
    assert turn.server_count == 5000  # from the error's text: the first request's count
    assert figures.overflows == 1 and turn.summary_requests == 0


def test_proxy_records_what_a_llamacpp_server_answers() -> None:
    with awkward_server() as server, RecordingProxy(server.root_url) as proxy:
        def send(body: dict[str, Any]) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
            conn.request("POST", "/v1/chat/completions", json.dumps(body))
            status = conn.getresponse()
            status.read()
            conn.close()
            return status.status

        small = [{"role": "user", "content": "Hello there."}]
        big = [{"role": "user", "content": "word " * 300}]
        assert send({"model": "tiny-llama", "messages": small, "stream": True,
                     "stream_options": {"include_usage": True}}) == 200
        assert send({"model": "tiny-llama", "messages": big}) == 400
        streamed, refused = proxy.exchanges
        assert streamed.prompt_tokens == server.count_prompt(small) and not streamed.too_long
        assert streamed.reply == short_reply(small) and streamed.finish_reason == "stop"
        assert refused.too_long and refused.prompt_tokens == server.count_prompt(big) > 512
        assert [e.prompt_tokens for e in map(Exchange.from_fake, server.chat_log())] == \
            [streamed.prompt_tokens, refused.prompt_tokens]
