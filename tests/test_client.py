"""ChatClient streaming over the real SDK and real HTTP against the fake server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
import tiktoken

from tests.fake_openai import FakeOpenAI, Script
from tui.core.client import (
    BadRequest,
    ChatClient,
    Finished,
    RequestParams,
    Retrying,
    StreamEvent,
    TextDelta,
    UsageReport,
    is_reasoning_model,
)

HELLO = [{"role": "user", "content": "hello"}]

PROMPT_CLOSE = 0.5
"""A cancelled stream's connection is closed within this (seconds): the server holds the
stream until then, so a connection left to the garbage collector or the stream's end fails
the 1 s wait first; 0.1 s was tight for a loaded CI run's thread hop."""


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[ChatClient]:
    chat_client = ChatClient(base_url=fake_openai.base_url, api_key=None, timeout=5,
                             backoff_base=0.01, backoff_max=1)
    yield chat_client
    await chat_client.aclose()


async def collect(client: ChatClient, model: str = "gpt-4o-mini",
                  messages: list[dict[str, str]] | None = None,
                  params: RequestParams | None = None) -> list[StreamEvent]:
    return [event async for event in client.stream_chat(model, messages or HELLO, params)]


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_stream_deltas_then_finish_then_usage(fake_openai: FakeOpenAI,
                                                   client: ChatClient) -> None:
    reply = "Streaming works, token by token: ünïcode 日本語 too."
    fake_openai.script(Script.reply(reply))
    events = await collect(client)
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 5
    assert text_of(events) == reply
    assert events[len(deltas):] == [
        Finished("stop"),
        UsageReport(prompt_tokens=8,  # 3 priming + 3 per message + "user" + "hello"
                    completion_tokens=len(tiktoken.get_encoding("o200k_base").encode(reply)),
                    cached_tokens=0),
    ]


@pytest.mark.parametrize("reason", ["length", "content_filter"])
async def test_finish_reasons_are_events_not_errors(fake_openai: FakeOpenAI, client: ChatClient,
                                                    reason: str) -> None:
    fake_openai.script(Script(text="partial answer", finish_reason=reason))
    events = await collect(client)
    assert Finished(reason) in events
    assert text_of(events) == "partial answer"


async def test_max_output_tokens_cut_reports_length(fake_openai: FakeOpenAI,
                                                    client: ChatClient) -> None:
    fake_openai.script(Script.reply("one two three four five six"))
    events = await collect(client, params=RequestParams(max_output_tokens=2))
    assert text_of(events) == "one two"
    assert Finished("length") in events


async def test_chat_model_request_shape(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    await collect(client, "gpt-4o", params=RequestParams(temperature=0.2, top_p=0.9,
                                                         max_output_tokens=100))
    body = fake_openai.chat_requests()[-1]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert (body["model"], body["messages"]) == ("gpt-4o", HELLO)
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.2, 0.9, 100)
    assert "max_completion_tokens" not in body


async def test_reasoning_model_request_shape(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    await collect(client, "o3-mini", params=RequestParams(temperature=0.2, top_p=0.9,
                                                          max_output_tokens=100))
    body = fake_openai.chat_requests()[-1]
    assert body["max_completion_tokens"] == 100
    assert not {"max_tokens", "temperature", "top_p"} & set(body)


async def test_default_params_send_nothing_optional(fake_openai: FakeOpenAI,
                                                    client: ChatClient) -> None:
    await collect(client)
    body = fake_openai.chat_requests()[-1]
    assert set(body) == {"model", "messages", "stream", "stream_options"}


@pytest.mark.parametrize("model, expected", [
    ("o1", True), ("o1-mini", True), ("o3-mini", True), ("o4-mini-2025-04-16", True),
    ("gpt-5", True), ("gpt-5-mini", True), ("gpt-5.1", True), ("openai/o3", True),
    ("gpt-5-chat-latest", False), ("gpt-4o", False), ("gpt-4.1-mini", False),
    ("llama3.1:8b", False), ("omni-moderation", False), ("ollama", False),
])
def test_is_reasoning_model(model: str, expected: bool) -> None:
    assert is_reasoning_model(model) is expected


async def test_unsupported_param_retried_once_and_remembered(fake_openai: FakeOpenAI,
                                                             client: ChatClient) -> None:
    fake_openai.unsupported_params = {"temperature"}
    params = RequestParams(temperature=0.7, max_output_tokens=20)
    events = await collect(client, "gpt-4o", params=params)
    assert text_of(events) == "You said: hello"
    first, second = fake_openai.chat_requests()
    assert first["temperature"] == 0.7 and "temperature" not in second
    assert second["max_tokens"] == 20
    assert client.refused_params("gpt-4o") == {"temperature"}

    await collect(client, "gpt-4o", params=params)  # remembered: no refused attempt first
    assert len(fake_openai.chat_requests()) == 3
    assert "temperature" not in fake_openai.chat_requests()[2]

    fake_openai.unsupported_params = set()
    await collect(client, "gpt-4o-mini", params=params)  # per model
    assert fake_openai.chat_requests()[3]["temperature"] == 0.7


async def test_refused_max_tokens_switches_to_max_completion_tokens(
        fake_openai: FakeOpenAI, client: ChatClient) -> None:
    fake_openai.unsupported_params = {"max_tokens"}
    events = await collect(client, "gpt-4o", params=RequestParams(max_output_tokens=50))
    assert Finished("stop") in events
    first, second = fake_openai.chat_requests()
    assert first["max_tokens"] == 50
    assert second["max_completion_tokens"] == 50 and "max_tokens" not in second


async def test_refusal_of_a_param_not_sent_is_reported(fake_openai: FakeOpenAI,
                                                       client: ChatClient) -> None:
    fake_openai.script(Script.unsupported_parameter("logprobs"))
    with pytest.raises(BadRequest) as info:
        await collect(client)
    assert "(400)" in str(info.value) and "'logprobs'" in str(info.value)
    assert len(fake_openai.chat_requests()) == 1


async def test_cancel_while_awaiting_closes_stream_within_100ms(fake_openai: FakeOpenAI,
                                                                client: ChatClient) -> None:
    fake_openai.script(Script(text="word " * 100, hold_after=3))
    three = asyncio.Event()
    deltas: list[str] = []

    async def consume() -> None:
        async for event in client.stream_chat("gpt-4o-mini", HELLO):
            if isinstance(event, TextDelta):
                deltas.append(event.text)
                if len(deltas) == 3:
                    three.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three.wait(), 5)
    assert fake_openai.holding.is_set() or fake_openai.holding.wait(1)
    assert not fake_openai.client_disconnected.is_set()
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_openai.client_disconnected.wait, 1.0)
    assert time.monotonic() - start < PROMPT_CLOSE
    assert deltas == ["word", " word", " word"]


async def test_cancel_in_loop_body_with_aclosing_closes_stream(fake_openai: FakeOpenAI,
                                                               client: ChatClient) -> None:
    fake_openai.script(Script(text="word " * 100, hold_after=2))
    busy = asyncio.Event()

    async def consume() -> None:
        async with aclosing(client.stream_chat("gpt-4o-mini", HELLO)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    busy.set()
                    await asyncio.Event().wait()  # the consumer is busy when the cancel lands

    task = asyncio.create_task(consume())
    await asyncio.wait_for(busy.wait(), 5)
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_openai.client_disconnected.wait, 1.0)
    assert time.monotonic() - start < PROMPT_CLOSE


async def test_cancel_before_first_byte_closes_connection(fake_openai: FakeOpenAI,
                                                          client: ChatClient) -> None:
    fake_openai.script(Script.slow(10))
    task = asyncio.create_task(collect(client))
    assert await asyncio.to_thread(fake_openai.wait_for_requests, 1, 5)
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_openai.client_disconnected.wait, 1.0)
    assert time.monotonic() - start < PROMPT_CLOSE


async def test_complete_is_non_streaming(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    fake_openai.script(Script.server_error(502), Script.reply("A short title"))
    retries: list[Retrying] = []
    title = await client.complete("gpt-4o-mini", HELLO, RequestParams(max_output_tokens=10),
                                  on_retry=retries.append)
    assert title == "A short title"
    assert [r.reason for r in retries] == ["server error (502)"]
    body = fake_openai.chat_requests()[-1]
    assert "stream" not in body and "stream_options" not in body
    assert body["max_tokens"] == 10


async def test_no_key_sends_placeholder(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    await collect(client)
    assert fake_openai.requests[-1].headers["authorization"] == "Bearer not-needed"
