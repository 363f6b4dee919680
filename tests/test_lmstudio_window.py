"""LM Studio: the context length a model was loaded with, read from its REST API.

LM Studio loads a model with a context length of its own (4,096 unless the user picked
another), whatever the model was trained for, and its OpenAI endpoint does not say it. Over
it, versions answer a 400 (the test server's ``lmstudio`` flavor), a 200 with an error in
the body, or an empty stream: the window has to be known before the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.flow_support import flow_on, send
from tests.long_run import short_reply
from tui.core.chat import ChatFlow
from tui.core.client import ChatClient
from tui.core.ollama import RuntimeWindow
from tui.core.windows import parse_context_error

MODEL = "qwen/qwen3-8b"


@pytest.fixture
def studio() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(flavor="lmstudio", tokenizer="foreign", context_window=3072,
                    models=[MODEL, "other-model"], reply=short_reply) as server:
        yield server


@pytest.fixture
async def flow(studio: FakeOpenAI, tmp_path: Path) -> AsyncIterator[ChatFlow]:
    async with flow_on(studio, tmp_path, MODEL) as chat_flow:
        yield chat_flow


async def test_the_loaded_context_length_is_read_once_the_model_is_loaded(
        studio: FakeOpenAI) -> None:
    client = ChatClient(base_url=studio.base_url, api_key=None, timeout=5)
    try:
        assert await client.lmstudio_window(MODEL) == RuntimeWindow(None, loaded=False)
        studio.loaded_models[MODEL] = 8192  # loaded (by a request, or in LM Studio's UI)
        assert await client.lmstudio_window(MODEL) == RuntimeWindow(8192, loaded=True)
        assert await client.lmstudio_window("other-model") == RuntimeWindow(None, loaded=False)
    finally:
        await client.aclose()


async def test_a_server_that_is_not_lm_studio_says_nothing(fake_openai: FakeOpenAI) -> None:
    client = ChatClient(base_url=fake_openai.base_url, api_key=None, timeout=5)
    try:
        assert await client.lmstudio_window("gpt-4o-mini") is None
    finally:
        await client.aclose()


def test_lm_studios_overflow_error_gives_the_window_and_the_count() -> None:
    message = ("The number of tokens to keep from the initial prompt is greater than the "
               "context length (n_keep: 10247 >= n_ctx: 4096). Try to load the model with a "
               "larger context length, or provide a shorter prompt.")
    assert parse_context_error(message) == (4096, 10247)


async def test_a_chat_is_planned_for_the_window_lm_studio_loaded_the_model_with(
        studio: FakeOpenAI, flow: ChatFlow) -> None:
    """Not loaded at the first send, the model had no window to read: the probe was made
    once a session, so the chat stayed planned for an 8k guess against a 4k model. A model
    not loaded is asked for again; loaded by that first request, its window is known."""
    conversation = flow.new_conversation(model=MODEL)
    await send(flow, conversation.id, "hello")
    info = flow.window_info(flow.store.get_conversation(conversation.id))
    assert (info.size, info.source) == (4096, "guess"), "LM Studio's default, not 8k"
    await send(flow, conversation.id, "again")
    info = flow.window_info(flow.store.get_conversation(conversation.id))
    assert (info.size, info.source) == (3072, "server")
    asked = len([r for r in studio.requests if r.path == "/api/v0/models"])
    await send(flow, conversation.id, "and once more")
    assert len([r for r in studio.requests if r.path == "/api/v0/models"]) == asked, (
        "once known, not asked again this session")
    assert [r.too_long for r in studio.chat_log() if r.too_long] == []
