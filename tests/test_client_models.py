"""Model listing, the server's context window probes, and which key goes to which host."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from tests.fake_openai import FakeOpenAI
from tui.core.client import (
    NO_KEY,
    AuthError,
    ChatClient,
    ConnectFailed,
    ModelInfo,
    key_for_host,
)


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[ChatClient]:
    chat_client = ChatClient(base_url=fake_openai.base_url, api_key=None, timeout=5)
    yield chat_client
    await chat_client.aclose()


async def test_list_models(fake_openai: FakeOpenAI, client: ChatClient) -> None:
    fake_openai.models = ["llama3.1:8b", "Qwen/Qwen2.5-7B-Instruct"]
    fake_openai.max_model_len = {"Qwen/Qwen2.5-7B-Instruct": 32768}
    assert await client.list_models() == [
        ModelInfo("llama3.1:8b", None, "fake-openai"),
        ModelInfo("Qwen/Qwen2.5-7B-Instruct", 32768, "fake-openai"),
    ]
    assert fake_openai.requests[-1].path == "/v1/models"


async def test_list_models_errors_are_client_errors(fake_openai: FakeOpenAI,
                                                    client: ChatClient) -> None:
    fake_openai.require_api_key = "sk-x"
    with pytest.raises(AuthError):
        await client.list_models()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    nowhere = ChatClient(base_url=f"http://127.0.0.1:{port}/v1", api_key=None)
    with pytest.raises(ConnectFailed):
        await nowhere.list_models()
    await nowhere.aclose()


async def test_context_window_from_vllm_max_model_len(fake_openai: FakeOpenAI,
                                                      client: ChatClient) -> None:
    fake_openai.models = ["served"]
    fake_openai.max_model_len = {"served": 16384}
    fake_openai.props_n_ctx = 4096  # not asked: the model entry answered
    assert await client.server_context_window("served") == 16384
    assert [r.path for r in fake_openai.requests] == ["/v1/models"]


async def test_context_window_from_llamacpp_props(fake_openai: FakeOpenAI,
                                                  client: ChatClient) -> None:
    fake_openai.props_n_ctx = 8192
    assert await client.server_context_window("gpt-4o-mini") == 8192
    assert fake_openai.requests[-1].path == "/props"


async def test_context_window_unknown_is_none(fake_openai: FakeOpenAI,
                                              client: ChatClient) -> None:
    assert await client.server_context_window("gpt-4o-mini") is None  # /props answers 404
    fake_openai.stop()
    assert await client.server_context_window("gpt-4o-mini") is None  # unreachable: no raise


@pytest.mark.parametrize("base_url, allow, expected", [
    (None, False, "sk-real"),
    ("https://api.openai.com/v1", False, "sk-real"),
    ("https://API.OpenAI.com/v1/", False, "sk-real"),
    ("http://api.openai.com/v1", False, NO_KEY),  # never in clear text by default
    ("https://api.openai.com.evil.example/v1", False, NO_KEY),
    ("http://localhost:11434/v1", False, NO_KEY),
    ("https://openrouter.ai/api/v1", False, NO_KEY),
    ("https://openrouter.ai/api/v1", True, "sk-real"),
])
def test_key_for_host(base_url: str | None, allow: bool, expected: str) -> None:
    assert key_for_host(base_url, "sk-real", send_key_to_any_host=allow) == expected


@pytest.mark.parametrize("key", [None, ""])
def test_key_for_host_without_key_is_placeholder(key: str | None) -> None:
    assert key_for_host(None, key, send_key_to_any_host=True) == NO_KEY


async def test_real_key_goes_to_openai_only(fake_openai: FakeOpenAI) -> None:
    local = ChatClient(base_url=fake_openai.base_url, api_key="sk-secret")
    await local.list_models()
    await local.aclose()
    assert fake_openai.requests[-1].headers["authorization"] == f"Bearer {NO_KEY}"
    default = ChatClient(base_url=None, api_key="k")
    assert default.base_url == "https://api.openai.com/v1"
    await default.aclose()
