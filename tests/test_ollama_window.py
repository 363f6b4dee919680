"""Ollama: the window it runs a model with, read from its own API, so it never cuts a prompt.

Ollama's OpenAI endpoint neither reports its window (num_ctx, 4,096 by default whatever the
model was trained for) nor refuses a prompt over it: it drops the oldest messages, then cuts
the start, and answers as if nothing happened. The test server's ``ollama`` flavor does the
same and records how many prompt tokens it dropped (``truncated``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.fake_openai.ollama import fit_prompt
from tests.flow_support import flow_on, send
from tests.long_run import run_long_conversation, short_reply
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.chat import AssistantFinished, ChatFlow, FlowFailed
from tui.core.client import ChatClient
from tui.core.ollama import RuntimeWindow, modelfile_window, running_window, same_model

MODEL = "llama3.1:8b"


@pytest.fixture
def ollama() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(flavor="ollama", tokenizer="foreign", context_window=1024,
                    models=[MODEL, "qwen3:latest"], reply=short_reply) as server:
        yield server


@pytest.fixture
async def client(ollama: FakeOpenAI) -> AsyncIterator[ChatClient]:
    chat_client = ChatClient(base_url=ollama.base_url, api_key=None, timeout=5)
    yield chat_client
    await chat_client.aclose()


# --- reading Ollama's answers ---------------------------------------------------------------


def test_a_model_without_a_tag_is_the_latest() -> None:
    assert same_model("qwen3:latest", "qwen3")
    assert same_model("llama3.1:8b", "llama3.1:8b")
    assert not same_model("llama3.1:8b", "llama3.1")
    assert not same_model("qwen3:latest", "qwen3:4b")
    assert not same_model(None, "qwen3")


def test_the_running_window_is_read_from_ps() -> None:
    ps = {"models": [{"name": "other:1b", "model": "other:1b", "context_length": 8192},
                     {"name": MODEL, "model": MODEL, "context_length": 4096}]}
    assert running_window(ps, MODEL) == RuntimeWindow(4096, loaded=True)
    assert running_window(ps, "absent") == RuntimeWindow(None, loaded=False)
    # An Ollama too old to list context_length: loaded, window unknown.
    old = {"models": [{"name": MODEL, "model": MODEL}]}
    assert running_window(old, MODEL) == RuntimeWindow(None, loaded=True)
    assert running_window("not json", MODEL) == RuntimeWindow(None, loaded=False)


def test_only_a_modelfile_num_ctx_is_a_window() -> None:
    assert modelfile_window({"parameters": 'stop "<|eot_id|>"\nnum_ctx 16384\ntemperature 0.6'}
                            ) == 16384
    assert modelfile_window({"parameters": "temperature 0.6", "model_info": {
        "llama.context_length": 131072}}) is None, "the trained window is not the one it runs"
    assert modelfile_window({}) is None and modelfile_window(None) is None


# --- the test server plays Ollama ------------------------------------------------------------


def test_the_test_server_cuts_a_long_prompt_silently_like_ollama() -> None:
    def count(messages: list[dict]) -> int:
        return sum(len(m["content"]) for m in messages)

    messages = [{"role": "system", "content": "s" * 10}, {"role": "user", "content": "a" * 50},
                {"role": "assistant", "content": "b" * 50}, {"role": "user", "content": "c" * 30}]
    assert fit_prompt(messages, 200, count) == (140, 0)
    # The oldest messages go first; the system prompt stays.
    assert fit_prompt(messages, 100, count) == (90, 50)
    # Even the newest message alone too long: its start is cut to the window.
    assert fit_prompt(messages, 30, count) == (30, 110)


async def test_ollama_window_reads_the_running_window_and_loads_a_model_first(
        ollama: FakeOpenAI, client: ChatClient) -> None:
    assert await client.ollama_window(MODEL) == RuntimeWindow(None, loaded=False)
    ollama.ollama_modelfile_num_ctx = 3000
    assert await client.ollama_window(MODEL) == RuntimeWindow(3000, loaded=False)
    ollama.ollama_modelfile_num_ctx = None
    assert not [r for r in ollama.requests if r.path == "/api/generate"], "nothing loaded yet"

    assert await client.ollama_window(MODEL, load=True) == RuntimeWindow(1024, loaded=True)
    assert [r.body for r in ollama.requests if r.path == "/api/generate"] == [
        {"model": MODEL, "stream": False}]
    # Loaded: /api/ps answers, nothing is loaded again.
    assert await client.ollama_window("qwen3") == RuntimeWindow(None, loaded=False)
    assert await client.ollama_window(MODEL, load=True) == RuntimeWindow(1024, loaded=True)
    assert len([r for r in ollama.requests if r.path == "/api/generate"]) == 1


async def test_a_server_that_is_not_ollama_is_not_asked_more(fake_openai: FakeOpenAI) -> None:
    client = ChatClient(base_url=fake_openai.base_url, api_key=None, timeout=5)
    try:
        assert await client.ollama_window("gpt-4o-mini", load=True) is None
    finally:
        await client.aclose()
    assert [r.path for r in fake_openai.requests] == ["/api/ps"]


# --- the chat flow ----------------------------------------------------------------------------


@pytest.fixture
async def flow(ollama: FakeOpenAI, tmp_path: Path) -> AsyncIterator[ChatFlow]:
    async with flow_on(ollama, tmp_path, MODEL) as chat_flow:
        yield chat_flow


async def test_a_send_plans_for_the_window_ollama_runs_the_model_with(
        ollama: FakeOpenAI, flow: ChatFlow) -> None:
    """The built-in fallback (8k) was planned for: a 4k Ollama cut every long chat."""
    store = flow.store
    conversation = flow.new_conversation(model=MODEL)
    assert flow.window_info(conversation).source == "guess"
    await flow.probe_server_window(MODEL)  # Ollama, the model not loaded: its default
    info = flow.window_info(conversation)
    assert (info.size, info.source) == (4096, "guess")
    await send(flow, conversation.id, "hello")
    paths = [r.path for r in ollama.requests]
    assert paths.index("/api/generate") < paths.index("/v1/chat/completions"), (
        "the model is loaded before the request is planned")
    info = flow.window_info(store.get_conversation(conversation.id))
    assert (info.size, info.source) == (1024, "server")
    assert store.get_model_window(MODEL, ollama.base_url) == 1024

    # A window set larger (the model's trained 128k) is capped at the one Ollama runs.
    flow.settings.context_windows = {"llama3.1": 131072}
    info = flow.window_info(store.get_conversation(conversation.id))
    assert (info.size, info.source) == (1024, "server")
    flow.settings.context_windows = {"llama3.1": 512}
    assert flow.window_for(store.get_conversation(conversation.id)) == 512
    flow.settings.context_windows = {}

    # Ollama restarted with another OLLAMA_CONTEXT_LENGTH: the next send follows.
    ollama.context_window = 2048
    ollama.loaded_models.clear()
    await send(flow, conversation.id, "again")
    assert flow.window_for(store.get_conversation(conversation.id)) == 2048


async def test_a_first_request_ollama_cut_says_so_and_the_next_ones_are_planned_whole(
        ollama: FakeOpenAI, flow: ChatFlow) -> None:
    """Before any count came back, a message the local count put well within the window
    was twice that to the model: Ollama cut it without a word, and its count of what it
    kept (the whole window) is the only sign. The reply says so, and that count is taken
    as a floor: taken as a point, it bent the calibration flat and the next send split its
    summary pieces for minutes at full CPU."""
    ollama.context_window = 2048
    conversation = flow.new_conversation(model=MODEL)
    first = await send(flow, conversation.id, " ".join(["context windows matter"] * 430))
    assert ollama.chat_log()[-1].truncated > 0, "the premise: Ollama cut it"
    (finished,) = [e for e in first if isinstance(e, AssistantFinished)]
    assert finished.note is not None and "cut the start of this request" in finished.note

    seen = len(ollama.chat_log())
    await send(flow, conversation.id, "and again")
    later = ollama.chat_log()[seen:]
    chats = [r for r in later if not r.summary]
    assert chats and [r.truncated for r in chats if r.truncated] == []
    # A floor is no measure: a summary request may still be cut once, and is then caught;
    # its summary is not stored.
    cut = {r.reply for r in later if r.summary and r.truncated}
    stored = flow.store.list_summaries(conversation.id)
    assert not {s.content for s in stored} & cut
    sizer = flow.knowledge.sizer(flow.store.get_conversation(conversation.id))
    assert sizer.calibration.predict(100) < 400, "no fixed cost made of the cut count"


@pytest.mark.parametrize("strategy", ["summarize", "truncate"])
async def test_a_long_chat_is_never_cut_by_ollama(ollama: FakeOpenAI, strategy: str) -> None:
    """Before: 52 of 60 requests cut at 2,048 tokens (bench_long_run.py --fake-flavor
    ollama), the app planning for an 8k guess."""
    ollama.context_window = 2048  # room for the ~300-word prompts (every 25th) and a reply
    figures = await run_long_conversation(ollama.base_url, model=MODEL, strategy=strategy,
                                          turns=30, fake=ollama)
    chats = ollama.chat_log()
    assert [r.truncated for r in chats if r.truncated] == []
    assert figures.failed_turns == [] and figures.overflows == 0
    assert max(r.prompt_tokens or 0 for r in chats) > 2048 // 2, "the window was used"
    if strategy == "summarize":
        assert figures.total("summary_requests") > 0


# --- the app ----------------------------------------------------------------------------------


async def test_typing_for_a_model_ollama_has_not_loaded_loads_it_and_the_meter_follows(
        ollama: FakeOpenAI, tmp_path: Path) -> None:
    """Until a first send loaded the model the meter read "8k (guess?)" against a 2k
    Ollama, and a message too long for 2k was stored, then refused at the send. Typing now
    has the model loaded: the meter shows its window before anything is sent."""
    ollama.context_window = 2048
    services = make_services(tmp_path, ollama.base_url, model=MODEL)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: services.flow.knowledge.runs_ollama
                             and app.main.status.reading is not None, what="the probe")
            await wait_until(pilot, lambda: app.main.status.reading.window == 4096,
                             what="Ollama's usual default once the server is known")
            assert app.main.status.reading.window_source == "guess"
            assert not [r for r in ollama.requests if r.path == "/api/generate"]
            app.main.composer.insert("hello")
            await wait_until(pilot, lambda: app.main.status.reading is not None
                             and app.main.status.reading.window == 2048,
                             what="Ollama's window on the meter")
            assert app.main.status.reading.window_source == "server"
            assert len([r for r in ollama.requests if r.path == "/api/generate"]) == 1
            assert ollama.chat_log() == [] and services.store.count_conversations() == 0
            app.main.composer.insert(" there")
            await pilot.pause()
            assert len([r for r in ollama.requests if r.path == "/api/generate"]) == 1
    finally:
        await services.aclose()


async def test_a_reply_to_a_prompt_ollama_cut_says_so_in_full(ollama: FakeOpenAI,
                                                               tmp_path: Path) -> None:
    """The note sat in the reply's header and was cut off at the edge of the pane ("the
    server counted 2,048 prompt tokens, its"): the header wraps."""
    ollama.context_window = 2048
    services = make_services(tmp_path, ollama.base_url, model=MODEL)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: services.flow.knowledge.runs_ollama,
                             what="the probe")
            # Within the window by the local count, beyond it by the model's.
            app.main.composer.insert(" ".join(["context windows matter"] * 250))
            await wait_until(pilot, lambda: app.main.status.reading is not None
                             and app.main.status.reading.window == 2048, what="the window")
            assert app.main.status.reading.action != "refuse"
            await pilot.press("enter")
            await wait_until(pilot, lambda: ollama.chat_log() and not app.main.replies,
                             what="the reply")
            assert ollama.chat_log()[0].truncated > 0, "the premise: Ollama cut it"
            def shown() -> str:  # the pane's text, its lines joined, the block's edge left out
                lines = [line.split("▕", 1)[-1].replace("▌", " ")
                         for line in screen_text(app).splitlines()]
                return " ".join(" ".join(lines).split())
            await wait_until(pilot, lambda: "sends the request again" in shown(),
                             what="the note's end")
            assert "its whole 2,048-token window: it probably cut the start" in shown()
    finally:
        await services.aclose()


async def test_a_message_too_long_for_a_model_not_loaded_yet_is_refused_before_it_is_stored(
        ollama: FakeOpenAI, flow: ChatFlow) -> None:
    """``ask`` (and a send before typing loaded the model) checked against a guess of 8k:
    the message was stored, then refused at the send."""
    ollama.context_window = 1024
    conversation = flow.new_conversation(model=MODEL)
    events = await send(flow, conversation.id, "words and more words " * 300)
    (failed,) = [e for e in events if isinstance(e, FlowFailed)]
    assert failed.kind == "too_long" and "Nothing was sent or stored" in failed.error
    assert flow.store.count_messages(conversation.id) == 0
    assert ollama.chat_log() == []
