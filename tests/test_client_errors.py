"""ChatClient failures: each becomes one ClientError with a specific message; retries bounded."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import tiktoken

from tests.fake_openai import FakeOpenAI, Script
from tui.core.client import (
    AuthError,
    BadRequest,
    ChatClient,
    ClientError,
    ConnectFailed,
    ContextLengthExceeded,
    Finished,
    ModelNotFound,
    RateLimited,
    RequestParams,
    RequestTimeout,
    Retrying,
    ServerError,
    StreamCut,
    TextDelta,
)

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[ChatClient]:
    chat_client = ChatClient(base_url=fake_openai.base_url, api_key=None, timeout=5,
                             max_retries=2, backoff_base=0.01, backoff_max=1)
    yield chat_client
    await chat_client.aclose()


async def run(client: ChatClient, model: str = "gpt-4o-mini",
              messages: list[dict[str, str]] | None = None,
              params: RequestParams | None = None) -> tuple[list[Any], ClientError | None]:
    """The events received, and the ClientError that ended the stream (if any)."""
    events: list[Any] = []
    try:
        async for event in client.stream_chat(model, messages or HELLO, params):
            events.append(event)
    except ClientError as exc:
        return events, exc
    return events, None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line(error: ClientError | None) -> str:
    assert error is not None
    assert "\n" not in str(error) and "Traceback" not in str(error)
    return str(error)


async def test_401_names_the_fix(fake_openai: FakeOpenAI) -> None:
    fake_openai.require_api_key = "sk-right"
    wrong = ChatClient(base_url=fake_openai.base_url, api_key="sk-wrong",
                       send_key_to_any_host=True)
    _, error = await run(wrong)
    await wrong.aclose()
    assert isinstance(error, AuthError)
    message = one_line(error)
    assert message.startswith("the server rejected the API key (401): set OPENAI_API_KEY")
    assert "no key was sent" not in message
    assert fake_openai.requests[-1].headers["authorization"] == "Bearer sk-wrong"
    assert len(fake_openai.chat_requests()) == 1  # never retried


async def test_401_when_the_key_was_withheld_says_so(fake_openai: FakeOpenAI) -> None:
    fake_openai.require_api_key = "sk-right"
    withheld = ChatClient(base_url=fake_openai.base_url, api_key="sk-right")
    _, error = await run(withheld)
    await withheld.aclose()
    assert isinstance(error, AuthError)
    assert "no key was sent" in one_line(error)
    assert fake_openai.requests[-1].headers["authorization"] == "Bearer not-needed"


async def test_right_key_allowed_to_this_host_works(fake_openai: FakeOpenAI) -> None:
    fake_openai.require_api_key = "sk-right"
    allowed = ChatClient(base_url=fake_openai.base_url, api_key="sk-right",
                         send_key_to_any_host=True)
    events, error = await run(allowed)
    await allowed.aclose()
    assert error is None and Finished("stop") in events


async def test_404_model_lists_suggestions(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    fake_openai.known_models = {"llama3.1:8b", "llama3.2:3b", "qwen2.5:7b"}
    _, error = await run(client, "llama3.1:7b")
    assert isinstance(error, ModelNotFound)
    assert error.model == "llama3.1:7b"
    assert sorted(error.available) == ["llama3.1:8b", "llama3.2:3b", "qwen2.5:7b"]
    message = one_line(error)
    assert f"model 'llama3.1:7b' not found on {fake_openai.base_url}" in message
    assert "did you mean 'llama3.1:8b'" in message
    assert "Available: " in message


async def test_404_model_when_models_cannot_be_listed(fake_openai: FakeOpenAI,
                                                      client: ChatClient) -> None:
    fake_openai.script(Script.model_not_found("gpt-9"))
    fake_openai.require_api_key = None
    fake_openai.models = []
    _, error = await run(client, "gpt-9")
    assert isinstance(error, ModelNotFound)
    assert error.available == []
    assert "the server lists no models" in one_line(error)


async def test_404_on_wrong_base_url_points_at_the_url(fake_openai: FakeOpenAI) -> None:
    rootless = ChatClient(base_url=fake_openai.root_url, api_key=None)  # missing /v1
    _, error = await run(rootless)
    await rootless.aclose()
    assert isinstance(error, BadRequest) and error.status == 404
    assert "check the base URL" in one_line(error)


async def test_429_honours_retry_after_then_succeeds(fake_openai: FakeOpenAI,
                                                     client: ChatClient) -> None:
    fake_openai.script(Script.rate_limited(0.05), Script.rate_limited(0.05), Script.reply("ok"))
    events, error = await run(client)
    assert error is None
    retries = [e for e in events if isinstance(e, Retrying)]
    assert [(r.attempt, r.reason) for r in retries] == [(1, "rate limited (429)"),
                                                        (2, "rate limited (429)")]
    assert all(0.05 <= r.delay <= 0.06 for r in retries)  # Retry-After plus a little jitter
    assert events[:2] == retries  # before any text
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ok"
    assert len(fake_openai.chat_requests()) == 3


async def test_429_exhausted_raises_rate_limited(fake_openai: FakeOpenAI,
                                                 client: ChatClient) -> None:
    fake_openai.script(*[Script.rate_limited(0)] * 3, Script.reply("never"))
    events, error = await run(client)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 0
    assert "rate limited (429)" in one_line(error) and "after 2 retries" in str(error)
    assert [e.attempt for e in events] == [1, 2]
    assert len(fake_openai.chat_requests()) == 3


async def test_429_without_retry_after_backs_off(fake_openai: FakeOpenAI,
                                                 client: ChatClient) -> None:
    fake_openai.script(Script.rate_limited(None))
    events, error = await run(client)
    assert error is None
    assert isinstance(events[0], Retrying) and 0.005 <= events[0].delay <= 0.01


async def test_429_asking_for_a_long_wait_gives_up_at_once(fake_openai: FakeOpenAI,
                                                           client: ChatClient) -> None:
    fake_openai.script(Script.rate_limited(120))
    events, error = await run(client)
    assert isinstance(error, RateLimited) and error.retry_after == 120
    assert "asks to wait 120 s" in one_line(error)
    assert events == []


async def test_429_quota_is_not_retried(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    fake_openai.script(Script.http_error(429, "You exceeded your current quota, please check "
                                         "your plan and billing details.", "insufficient_quota",
                                         None, "insufficient_quota"))
    events, error = await run(client)
    assert isinstance(error, RateLimited)
    assert "exceeded your current quota" in one_line(error)
    assert events == [] and len(fake_openai.chat_requests()) == 1


async def test_500_then_success(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    fake_openai.script(Script.server_error(500), Script.reply("fine now"))
    events, error = await run(client)
    assert error is None
    assert isinstance(events[0], Retrying) and events[0].reason == "server error (500)"
    assert 0.005 <= events[0].delay <= 0.01  # backoff_base with jitter
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "fine now"


async def test_5xx_exhausted_raises_server_error(fake_openai: FakeOpenAI,
                                                 client: ChatClient) -> None:
    fake_openai.script(*[Script.server_error(503)] * 3)
    events, error = await run(client)
    assert isinstance(error, ServerError) and error.status == 503
    assert "server error (503)" in one_line(error) and "overloaded" in str(error)
    assert [e.delay <= 0.04 for e in events] == [True, True]  # exponential, capped, jittered
    assert len(fake_openai.chat_requests()) == 3


async def test_sdk_retries_are_off(fake_openai: FakeOpenAI) -> None:
    no_retry = ChatClient(base_url=fake_openai.base_url, api_key=None, max_retries=0)
    fake_openai.script(Script.server_error(500), Script.reply("unused"))
    _, error = await run(no_retry)
    await no_retry.aclose()
    assert isinstance(error, ServerError)
    assert len(fake_openai.chat_requests()) == 1


async def test_connection_refused() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    refused = ChatClient(base_url=base_url, api_key=None, timeout=5)
    _, error = await run(refused)
    await refused.aclose()
    assert isinstance(error, ConnectFailed) and error.base_url == base_url
    assert one_line(error) == f"cannot reach {base_url}: is the server running?"


async def test_slow_first_byte_times_out(fake_openai: FakeOpenAI) -> None:
    impatient = ChatClient(base_url=fake_openai.base_url, api_key=None, timeout=0.2)
    fake_openai.script(Script.slow(10))
    _, error = await run(impatient)
    await impatient.aclose()
    assert isinstance(error, RequestTimeout)
    assert "within 0.2 s" in one_line(error)
    assert len(fake_openai.chat_requests()) == 1


async def test_cut_stream_keeps_partial_deltas(fake_openai: FakeOpenAI,
                                               client: ChatClient) -> None:
    fake_openai.script(Script.cut("alpha beta gamma delta epsilon", after=3))
    events, error = await run(client)
    assert isinstance(error, StreamCut)
    assert "lost mid-reply" in one_line(error)
    assert events == [TextDelta("alpha"), TextDelta(" beta"), TextDelta(" gamma")]
    assert len(fake_openai.chat_requests()) == 1  # never retried after text arrived


async def test_context_length_exceeded_from_enforced_window(fake_openai: FakeOpenAI,
                                                            client: ChatClient) -> None:
    fake_openai.context_window = 30
    messages = [{"role": "user", "content": "many words " * 20}]
    _, error = await run(client, messages=messages)
    assert isinstance(error, ContextLengthExceeded)
    assert error.limit == 30
    content_tokens = len(tiktoken.get_encoding("o200k_base").encode(messages[0]["content"]))
    expected = 3 + 3 + 1 + content_tokens  # priming, per-message overhead, "user", content
    assert error.requested == expected
    assert "too long for the model's context window" in one_line(error)
    assert f"needs {expected} tokens, the model takes 30" in str(error)


async def test_context_length_with_reserved_output(fake_openai: FakeOpenAI,
                                                   client: ChatClient) -> None:
    fake_openai.context_window = 100
    _, error = await run(client, params=RequestParams(max_output_tokens=200))
    assert isinstance(error, ContextLengthExceeded)
    # The prompt's part (8), not prompt + completion: the count calibration learns from.
    assert (error.limit, error.requested) == (100, 8)


@pytest.mark.parametrize("error_obj, limit, requested", [
    ({"message": "This model's maximum context length is 4096 tokens. However, you requested "
                 "5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the "
                 "length of the messages or completion.", "type": "BadRequestError",
      "param": None, "code": 400}, 4096, 4000),  # vLLM: the messages' part
    ({"code": 400, "message": "the request exceeds the available context size, try increasing "
                              "it", "type": "exceed_context_size_error",
      "n_prompt_tokens": 5000, "n_ctx": 4096}, 4096, 5000),  # llama.cpp
    ({"message": "Input tokens exceed the configured limit of 272000 tokens. Your messages "
                 "resulted in 300000 tokens. Please reduce the length of the messages.",
      "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"},
     272000, 300000),
])
async def test_context_errors_of_other_servers(fake_openai: FakeOpenAI, client: ChatClient,
                                               error_obj: dict[str, Any], limit: int,
                                               requested: int) -> None:
    fake_openai.script(Script(status=400, error={"error": error_obj}))
    _, error = await run(client)
    assert isinstance(error, ContextLengthExceeded)
    assert (error.limit, error.requested) == (limit, requested)


async def test_other_400_is_bad_request_with_server_text(fake_openai: FakeOpenAI,
                                                         client: ChatClient) -> None:
    fake_openai.script(Script.http_error(400, "Invalid 'messages[0].role': bogus.",
                                         "invalid_request_error", "messages", None))
    _, error = await run(client)
    assert isinstance(error, BadRequest) and error.status == 400
    assert one_line(error) == ("the server rejected the request (400): "
                               "Invalid 'messages[0].role': bogus.")


async def test_complete_translates_errors_too(fake_openai: FakeOpenAI,
                                              client: ChatClient) -> None:
    fake_openai.script(Script.invalid_api_key())
    with pytest.raises(AuthError):
        await client.complete("gpt-4o-mini", HELLO)
