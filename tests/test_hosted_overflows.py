"""Hosted APIs refuse a prompt over the window in words of their own (tests/fake_openai/
hosted.py): each is read as an overflow, its numbers where it gives them, and a long chat
against each never fails; one that gives no numbers teaches the size it took. Their model
lists name the window under fields of their own too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.fake_openai.hosted import HOSTED_OVERFLOWS
from tests.flow_support import flow_on, send
from tests.long_run import make_prompts, short_reply
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.accepted_window import probe_size, window_holding
from tui.core.chat import AssistantFinished, ContextNotice, FlowFailed
from tui.core.context import budget_for
from tui.core.models import Role, Strategy
from tui.core.client import ChatClient
from tui.core.windows import parse_context_error
from tui.ui import flow_messages as fm

MODEL = "hosted-model"
WINDOW = 2048

# (the server's words, (window, the prompt's count)), as each API words it.
MESSAGES = {
    "anthropic": ("prompt is too long: 213462 tokens > 200000 maximum", (200000, 213462)),
    "gemini": ("The input token count (1300000) exceeds the maximum number of tokens allowed "
               "(1048575).", (1048575, 1300000)),
    "gemini, older": ("The input token count exceeds the maximum number of tokens allowed "
                      "1048576.", (1048576, None)),
    "xai": ("This model's maximum prompt length is 131072 but the request contains 537812 "
            "tokens.", (131072, 537812)),
    "mistral": ("Prompt contains 40000 tokens and 0 draft tokens, too large for model with "
                "32768 maximum context length", (32768, 40000)),
    "tgi": ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. "
            "Given: 4000 `inputs` tokens and 500 `max_new_tokens`", (4096, 4000)),
    "tgi, input only": ("Input validation error: `inputs` must have less than 4096 tokens. "
                        "Given: 5000", (4096, 5000)),
    "openrouter": ("This endpoint's maximum context length is 8192 tokens. However, you "
                   "requested about 10234 tokens (234 of text input, 10000 in the output).",
                   (8192, 234)),
    "openrouter, no split": ("This endpoint's maximum context length is 8192 tokens. However, "
                             "you requested about 10234 tokens.", (8192, 10234)),
    "moonshot": ("Your request exceeded model token limit: 262144 (requested: 300000)",
                 (262144, 300000)),
    "sglang": ("The input (5000 tokens) is longer than the model's context length (4096 "
               "tokens).", (4096, 5000)),
    "input length": ("Input length (265330) exceeds model's maximum context length (262144).",
                     (262144, 265330)),
    "configured size": ("Prompt has 300,000 tokens, but the configured context size is "
                        "131,072 tokens", (131072, 300000)),
    "bedrock": ("Input is too long for requested model.", (None, None)),
}


@pytest.mark.parametrize("api", list(MESSAGES))
def test_each_apis_words_give_its_numbers(api: str) -> None:
    message, numbers = MESSAGES[api]
    assert parse_context_error(message) == numbers


def hosted(style: str, **options) -> FakeOpenAI:
    """An OpenAI-like API with a 2,048-token window it does not list, refusing in ``style``'s
    words; it counts like tiktoken, so only the window is unknown (the 8k guess)."""
    return FakeOpenAI(**{"context_window": WINDOW, "models": [MODEL], "reply": short_reply,
                         "overflow_error": style, **options})


@pytest.mark.parametrize("style", HOSTED_OVERFLOWS)
async def test_a_long_chat_against_each_api_never_fails(tmp_path: Path, style: str) -> None:
    """Before: only OpenRouter's words were read; against the others every send past the
    window failed (bedrock, 60 turns at 2k: 52 failed turns)."""
    prompts = make_prompts(30, long_words=150)
    with hosted(style) as server:
        async with flow_on(server, tmp_path, MODEL) as flow:
            conversation = flow.new_conversation()
            events: list[object] = []
            for text in prompts:
                events += await send(flow, conversation.id, text)
            info = flow.window_info(flow.store.get_conversation(conversation.id))
        refused = [r for r in server.chat_log() if r.too_long]
    assert [e for e in events if isinstance(e, FlowFailed)] == []
    if style == "bedrock":
        # No numbers: what it took after refusing more is planned for since (summaries keep
        # the requests small, so no trial needs to go further here).
        assert info.source == "accepted" and WINDOW // 2 <= info.size <= WINDOW
        assert len(refused) <= 3
        learned = [e for e in events if isinstance(e, ContextNotice)
                   and "did not say" in e.text]
        assert learned and "[context_windows]" in learned[0].text
    else:
        assert (info.size, info.source) == (WINDOW, "error")
        assert len(refused) == 1, "the first refusal teaches the window"


async def test_gemini_s_error_in_a_list_reads_as_its_message(tmp_path: Path) -> None:
    """Gemini's OpenAI endpoint sends [{"error": {...}}]: the user reads the message, not
    the SDK's rendering of the list."""
    with hosted("gemini") as server:
        async with flow_on(server, tmp_path, MODEL) as flow:
            conversation = flow.new_conversation(strategy="off")
            events = await send(flow, conversation.id, "word " * 3000)
    [failed] = [e for e in events if isinstance(e, FlowFailed)]
    assert failed.kind == "context"
    assert "[{" not in failed.error and "2048" in failed.error


@pytest.mark.parametrize("field", ["context_length", "context_window", "max_context_length"])
async def test_the_window_a_model_list_names_is_the_servers(field: str) -> None:
    """OpenRouter and Together, Groq, Mistral list it under these."""
    with hosted("openai", window_field=field) as server:
        client = ChatClient(base_url=server.base_url, api_key=None, timeout=5)
        try:
            assert await client.server_context_window(MODEL) == WINDOW
        finally:
            await client.aclose()


async def test_llama_cpp_s_listed_n_ctx_is_its_window() -> None:
    """llama.cpp lists n_ctx under meta: read without /props (a proxy may pass /v1 only)."""
    with FakeOpenAI(flavor="llamacpp", context_window=1024, models=[MODEL]) as server:
        client = ChatClient(base_url=server.base_url, api_key=None, timeout=5)
        try:
            [info] = [m for m in await client.list_models() if m.id == MODEL]
            assert info.context_window == 1024
        finally:
            await client.aclose()


async def test_a_size_known_to_work_does_not_refuse_a_bigger_turn(tmp_path: Path) -> None:
    """What a server took is not its window: a message too big for that alone is sent (the
    server judges it), not refused before it leaves."""
    with hosted("bedrock") as server:
        async with flow_on(server, tmp_path, MODEL) as flow:
            flow.knowledge.learn_window(MODEL, 1000, "accepted")
            conversation = flow.new_conversation()
            events = await send(flow, conversation.id, "word " * 1200)
    assert [e for e in events if isinstance(e, FlowFailed)] == []
    [sent] = server.chat_log()
    assert not sent.too_long and sent.prompt_tokens > 1000


async def test_a_refusal_without_numbers_still_sends_a_big_newest_message(
        tmp_path: Path) -> None:
    """The retry at 0.6 of the refused size would leave out part of the newest message: its
    smallest form goes instead (smaller than what was refused), not a give-up. Seen in tmux:
    "gave up after 1 attempts: … not even the newest message fits"."""
    with FakeOpenAI(context_window=1024, models=[MODEL], reply=lambda _: "fine " * 50,
                    overflow_error="bedrock") as server:
        async with flow_on(server, tmp_path, MODEL) as flow:
            conversation = flow.new_conversation()
            await send(flow, conversation.id, "a short question " * 20)
            events = await send(flow, conversation.id, "word " * 920)
        refused, taken = [r for r in server.chat_log() if not r.summary][1:]
    assert [e for e in events if isinstance(e, FlowFailed)] == []
    assert refused.too_long and not taken.too_long
    assert taken.prompt_tokens < refused.prompt_tokens
    assert taken.messages[-1] == refused.messages[-1]


def test_a_trial_halves_the_gap_and_stops_when_it_is_small() -> None:
    assert probe_size(1000, None) is None  # nothing refused: nothing to try
    assert probe_size(1000, 2000) == 1500
    assert probe_size(1000, 1090) is None  # within PROBE_GAP
    for tokens in (1, 300, 1500, 100_000):
        window = window_holding(tokens, None)
        assert budget_for(window, None).available >= tokens
        assert budget_for(window - 1, None).available < tokens


async def test_trials_after_one_refusal_reach_the_window(tmp_path: Path) -> None:
    """The history outgrows an unsaid 2k window: one refusal, then trials halfway between
    what was taken and what was refused, each taken or refused once, until the two are
    close; later sends leave the reply its room, as within any known window."""
    with hosted("bedrock") as server:
        async with flow_on(server, tmp_path, MODEL) as flow:
            conversation = flow.new_conversation(strategy=Strategy.TRUNCATE)
            for text in make_prompts(80):
                events = await send(flow, conversation.id, text)
                assert [e for e in events if isinstance(e, FlowFailed)] == []
            info = flow.window_info(flow.store.get_conversation(conversation.id))
        chats = server.chat_log()
    refused = [r for r in chats if r.too_long]
    assert 1 <= len(refused) <= 3
    assert (info.source, 0.85 * WINDOW <= info.size <= WINDOW) == ("accepted", True)
    budget = budget_for(info.size, None).available
    assert all(r.prompt_tokens <= budget for r in chats[-10:])


async def test_trials_go_on_in_a_new_process(tmp_path: Path) -> None:
    """Each `gpt-tui ask` is a process of its own: the smallest size refused is stored with
    the size taken, so later processes still try between the two (before, each planned
    within the first size taken for good: ~0.6 of the guess that was refused)."""
    with hosted("bedrock") as server:
        async with flow_on(server, tmp_path, MODEL) as flow:
            conversation_id = flow.new_conversation(strategy=Strategy.TRUNCATE).id
        for text in make_prompts(60):
            async with flow_on(server, tmp_path, MODEL) as flow:
                events = await send(flow, conversation_id, text)
                assert [e for e in events if isinstance(e, FlowFailed)] == []
                info = flow.window_info(flow.store.get_conversation(conversation_id))
                stored = flow.store.model_window(MODEL, server.base_url)
        chats = server.chat_log()
    assert 1 <= len([r for r in chats if r.too_long]) <= 4
    assert (info.source, 0.85 * WINDOW <= info.size <= WINDOW) == ("accepted", True)
    assert stored is not None and stored.refused is not None and stored.refused > WINDOW


async def test_the_app_shows_the_size_taken_and_keeps_the_reply(tmp_path: Path) -> None:
    """The window learned from what was taken reaches the meter ("(taken)") at the reply's
    end, and its notice leaves the reply on screen (a "window_learned" notice drops the
    reply it follows: the one the server refused)."""
    with hosted("bedrock", reply=lambda _: "the final answer") as server:
        services = make_services(tmp_path, server.base_url, model=MODEL)
        chat = services.flow.new_conversation()
        for i in range(12):
            services.store.append_message(chat.id, Role.USER, f"question {i} " + "word " * 90)
            services.store.append_message(chat.id, Role.ASSISTANT, f"answer {i} " + "word " * 90)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                await app.main.open_conversation(chat.id)  # (--model starts a new chat)
                await wait_until(pilot, lambda: app.main.conversation is not None
                                 and app.main.status.reading is not None, what="the chat")
                assert app.main.status.reading.window_source == "guess"
                app.main.composer.insert("and now?")
                await pilot.press("enter")
                await wait_until(pilot, lambda: not app.main.replies
                                 and app.main.status.reading.window_source == "accepted",
                                 what="the size taken on the meter")
                assert [r.too_long for r in server.chat_log() if not r.summary] == [True, False]
                await wait_until(pilot, lambda: "the final answer" in screen_text(app)
                                 and "(taken)" in screen_text(app), what="reply and meter")
        finally:
            await services.aclose()


async def test_the_composer_does_not_refuse_a_turn_bigger_than_the_size_taken(
        tmp_path: Path) -> None:
    """The composer refused it ("This message is 478 tokens too long for the model's
    window"; seen in tmux after a 212-token size was learned) though the send plans it as
    with no window known."""
    with hosted("bedrock") as server:
        services = make_services(tmp_path, server.base_url, model=MODEL)
        services.flow.knowledge.learn_window(MODEL, 300, "accepted")
        chat = services.flow.new_conversation()
        view = services.context_for(chat)
        assert view.meter.refusal("word " * 700) is None
        assert view.meter.reading("word " * 700).window == 300
        services.flow.knowledge.learn_window(MODEL, 300, "server")
        assert services.context_for(chat).meter.refusal("word " * 700) is not None
        await services.aclose()


async def test_the_meter_follows_a_size_taken_that_grows(tmp_path: Path) -> None:
    """A trial taken raises the size taken as the reply finishes: the meter counted on from
    its last reading with the old size ("212 (taken)" in tmux while 631 was stored)."""
    with hosted("bedrock") as server:
        services = make_services(tmp_path, server.base_url, model=MODEL)
        chat = services.flow.new_conversation()
        question = services.store.append_message(chat.id, Role.USER, "question")
        services.flow.knowledge.learn_window(MODEL, 600, "accepted")
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                await app.main.open_conversation(chat.id)
                await wait_until(pilot, lambda: app.main.status.reading is not None
                                 and app.main.status.reading.window == 600, what="the chat")
                await app.workers.wait_for_complete()  # the opening's probe and readings
                await pilot.pause()
                services.flow.knowledge.learn_window(MODEL, 900, "accepted")
                reply = services.store.append_message(chat.id, Role.ASSISTANT, "answer",
                                                      parent_id=question.id)
                app.main.post_message(fm.ReplyFinished(chat.id, reply, window_changed=True))
                await wait_until(pilot, lambda: app.main.status.reading.window == 900,
                                 what="the grown size on the meter")
        finally:
            await services.aclose()


async def test_a_finish_says_when_the_size_taken_grew(tmp_path: Path) -> None:
    with hosted("bedrock", reply=lambda _: "ok") as server:
        async with flow_on(server, tmp_path, MODEL) as flow:
            conversation = flow.new_conversation(strategy=Strategy.TRUNCATE)
            for i in range(12):
                flow.store.append_message(conversation.id, Role.USER, f"q{i} " + "word " * 90)
                flow.store.append_message(conversation.id, Role.ASSISTANT, f"a{i} " + "w " * 90)
            flow.knowledge.learn_window(MODEL, 600, "accepted")
            flow.knowledge.note_refused(MODEL, 1900)
            events = await send(flow, conversation.id, "and now?")
            [finished] = [e for e in events if isinstance(e, AssistantFinished)]
            assert finished.window_changed
            assert flow.window_info(flow.store.get_conversation(conversation.id)).size > 600
            events = await send(flow, conversation.id, "and then?")
            [finished] = [e for e in events if isinstance(e, AssistantFinished)]
