"""Credentials inside a base URL never leave the client: not in errors, the database, exports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core.chat import ChatFlow, FlowFailed, collect
from tui.core.client import ChatClient, ConnectFailed
from tui.core.config import Settings
from tui.core.export import to_json, to_markdown
from tui.core.hosts import redact_url, redact_urls
from tui.core.models import Message, MessageStatus, Role
from tui.core.store import Store
from tui.core.tokens import TokenCounter

SECRETS = ("hunter2", "s3cr3t-query-key")


def with_secrets(base_url: str, *, query: bool = True) -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{scheme}://alice:hunter2@{rest}" + ("?api_key=s3cr3t-query-key" if query else "")


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


@pytest.mark.parametrize("url, shown", [
    ("https://user:pass@host/v1", "https://***@host/v1"),
    ("https://token@host:8443/v1", "https://***@host:8443/v1"),
    ("https://host/v1?api_key=k1&api-version=2024-06-01",
     "https://host/v1?api_key=***&api-version=2024-06-01"),
    ("https://host/v1?key=k&X-Amz-Signature=s&x=1",
     "https://host/v1?key=***&X-Amz-Signature=***&x=1"),
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
    ("http://u:p@host:notaport/v1", "http://***@host:notaport/v1"),
    ("", ""),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_urls_in_free_text() -> None:
    text = "cannot reach https://a:b@h/v1: also tried (http://x/y?token=t) and 'https://c@d/'"
    assert redact_urls(text) == ("cannot reach https://***@h/v1: also tried "
                                 "(http://x/y?token=***) and 'https://***@d/'")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connect_error_hides_credentials() -> None:
    client = ChatClient(base_url=with_secrets(f"http://127.0.0.1:{_closed_port()}/v1"),
                        api_key=None, timeout=5)
    try:
        with pytest.raises(ConnectFailed) as caught:
            async for _ in client.stream_chat("m", [{"role": "user", "content": "hi"}]):
                pass
    finally:
        await client.aclose()
    assert_clean(str(caught.value))
    assert_clean(caught.value.base_url)
    assert "***@127.0.0.1" in str(caught.value)


@pytest.mark.parametrize("query", [False, True])
async def test_server_errors_stored_and_exported_without_credentials(
        tmp_path: Path, fake_openai, query: bool) -> None:
    kind = "server"
    fake_openai.script(Script.server_error(500))
    counter = TokenCounter("gpt-4o")
    assert counter.load_blocking()
    client = ChatClient(base_url=with_secrets(fake_openai.base_url, query=query),
                        api_key=None, max_retries=0)
    with Store(tmp_path / "chat.db") as store:
        flow = ChatFlow(store, client, counter, Settings(model="gpt-4o"))
        conversation = flow.new_conversation()
        try:
            events = await collect(flow.send(conversation.id, "hello"))
        finally:
            await client.aclose()
        failure = events[-1]
        assert isinstance(failure, FlowFailed) and failure.kind == kind, failure
        assert "***" in failure.error
        assert_clean(failure.error)
        messages = store.load_messages(conversation.id)
        assert messages[-1].error == failure.error
        dump = "\n".join(str(row) for row in store.conn.execute("SELECT * FROM messages"))
        assert_clean(dump)
        assert_clean(to_markdown(store.get_conversation(conversation.id), messages, []))
        assert_clean(to_json(store.get_conversation(conversation.id), messages, []))
    # The request did reach the server through the credentialed URL.
    assert any(r.method == "POST" for r in fake_openai.requests)


def test_exports_hide_credentials_an_older_version_stored(tmp_path: Path) -> None:
    with Store(tmp_path / "chat.db") as store:
        conversation = store.create_conversation(model="m")
        store.append_message(conversation.id, Role.USER, "hi")
        reply = store.append_message(conversation.id, Role.ASSISTANT, "",
                                     status=MessageStatus.ERROR)
        store.update_message(reply.id, error="cannot reach https://alice:hunter2@h/v1")
        messages: list[Message] = store.load_messages(conversation.id)
        assert_clean(to_markdown(conversation, messages, []))
        assert_clean(to_json(conversation, messages, []))


async def test_a_query_in_the_base_url_goes_with_every_request(fake_openai) -> None:
    """``?api_key=...`` (or ``?api-version=...``) in the base URL: the SDK appended each path
    after the query ("/v1?api_key=...chat/completions"), so no request could work."""
    fake_openai.script(Script.reply("it works"))
    client = ChatClient(base_url=fake_openai.base_url + "?api_key=s3cr3t-query-key&v=2",
                        api_key=None, max_retries=0)
    try:
        text = "".join([getattr(event, "text", "") async for event in client.stream_chat(
            "m", [{"role": "user", "content": "hi"}])])
        await client.list_models()
    finally:
        await client.aclose()
    assert text == "it works"
    paths = [request.path for request in fake_openai.requests]
    assert "/v1/chat/completions?api_key=s3cr3t-query-key&v=2" in paths, paths
    assert "/v1/models?api_key=s3cr3t-query-key&v=2" in paths, paths
