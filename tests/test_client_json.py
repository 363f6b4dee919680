"""The client reads the model list and whole completions as plain JSON (not the SDK's models):
shapes the fake server does not produce, from a tiny raw HTTP server that answers every
request with the body a test gives it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.test_client_sse import raw_client, serving
from tui.core.client import ChatClient, ClientError, Completion, ModelInfo, UsageReport
from tui.core.client_params import request_body

HELLO = [{"role": "user", "content": "hello"}]


class RawJSON:
    """Answers every GET and POST with ``body`` as ``content_type``; keeps the POSTed bodies."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"
        self.content_type = "application/json"
        self.posted: list[Any] = []
        raw = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                raw.posted.append(json.loads(self.rfile.read(
                    int(self.headers.get("Content-Length") or 0))))
                self._answer()

            def _answer(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", raw.content_type)
                self.send_header("Content-Length", str(len(raw.body)))
                self.end_headers()
                self.wfile.write(raw.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    def answer(self, payload: Any) -> None:
        self.body = json.dumps(payload).encode()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def raw_json() -> Iterator[RawJSON]:
    server = RawJSON()
    with serving(server.httpd):
        yield server


@pytest.fixture
async def client(raw_json: RawJSON) -> AsyncIterator[ChatClient]:
    async with raw_client(raw_json.base_url) as chat_client:
        yield chat_client


async def test_model_entries_without_an_id_are_skipped_and_odd_fields_ignored(
        raw_json: RawJSON, client: ChatClient) -> None:
    raw_json.answer({"object": "list", "data": [
        {"id": "a", "owned_by": "me", "max_model_len": 4096, "meta": {"n_ctx_train": 1}},
        {"name": "no id"}, "not an entry", {"id": 7},
        {"id": "b", "owned_by": 3, "max_model_len": "big"}]})
    assert await client.list_models() == [ModelInfo("a", 4096, "me"), ModelInfo("b")]


async def test_a_bare_list_of_models_is_read_too(raw_json: RawJSON, client: ChatClient) -> None:
    raw_json.answer([{"id": "only"}])
    assert await client.list_models() == [ModelInfo("only")]


@pytest.mark.parametrize("answer", [{"object": "list"}, {"data": "none"}, "a string"])
async def test_an_answer_that_is_no_model_list_is_a_client_error(
        raw_json: RawJSON, client: ChatClient, answer: Any) -> None:
    raw_json.answer(answer)
    with pytest.raises(ClientError, match="did not answer with a model list"):
        await client.list_models()


async def test_an_html_page_for_the_model_list_is_a_client_error(
        raw_json: RawJSON, client: ChatClient) -> None:
    raw_json.body, raw_json.content_type = b"<html>proxy login</html>", "text/html"
    with pytest.raises(ClientError, match="did not answer with a model list"):
        await client.list_models()


async def test_a_whole_completion_with_usage(raw_json: RawJSON, client: ChatClient) -> None:
    raw_json.answer({"choices": [{"message": {"content": "Paris."}, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 12, "completion_tokens": 2}})
    assert await client.complete_full("m", HELLO) == Completion(
        "Paris.", "stop", UsageReport(12, 2, None))
    assert raw_json.posted[-1]["messages"] == HELLO and "stream" not in raw_json.posted[-1]


@pytest.mark.parametrize("choices", [[], [None], [{"message": None}],
                                     [{"message": {"content": None}, "finish_reason": 5}]])
async def test_a_completion_without_text_is_empty(raw_json: RawJSON, client: ChatClient,
                                                  choices: list[Any]) -> None:
    raw_json.answer({"choices": choices})
    assert await client.complete_full("m", HELLO) == Completion("", None, None)


@pytest.mark.parametrize("body, content_type", [
    (b'{"id": "x"}', "application/json"),
    (b"<html>proxy login</html>", "text/html"),
])
async def test_an_answer_that_is_no_completion_is_a_client_error(
        raw_json: RawJSON, client: ChatClient, body: bytes, content_type: str) -> None:
    raw_json.body, raw_json.content_type = body, content_type
    with pytest.raises(ClientError, match="did not answer with a chat completion"):
        await client.complete("m", HELLO)


def test_extra_parameters_are_merged_over_the_named_ones() -> None:
    kwargs = {"model": "m", "temperature": 0.2, "extra_body": {"top_k": 5, "temperature": 1}}
    assert request_body(kwargs) == {"model": "m", "temperature": 1, "top_k": 5}
    assert "extra_body" in kwargs  # the arguments are left as they were
