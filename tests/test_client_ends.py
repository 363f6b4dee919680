"""How a reply's body ends, and what a server's error message may quote back: a stream that
stops without saying it is complete is a cut, a whole JSON completion is a reply, and the
request's secrets never come back out in an error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fake_openai import FakeOpenAI, Script
from tests.test_client_errors import run
from tui.core.client import AuthError, BadRequest, ChatClient, Finished, StreamCut, TextDelta

KEY = "sk-test-SECRET12345"


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[ChatClient]:
    chat_client = ChatClient(base_url=fake_openai.base_url, api_key=KEY, timeout=5,
                             max_retries=0, send_key_to_any_host=True)
    yield chat_client
    await chat_client.aclose()


def text_of(events: list[Any]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def test_a_body_closed_early_without_chunks_is_a_cut_not_a_complete_reply(
        fake_openai: FakeOpenAI, client: ChatClient) -> None:
    """Delimited by the connection's close, a body cut short ends cleanly for HTTP: before,
    the partial reply was taken as complete (ask printed it and exited 0)."""
    fake_openai.script(Script(text="one two three four five six", cut_after=3, body="close"))
    events, error = await run(client)
    assert isinstance(error, StreamCut), events
    assert "before it was complete" in str(error)
    assert text_of(events) and not any(isinstance(e, Finished) for e in events)


async def test_a_close_delimited_body_that_ends_properly_is_complete(
        fake_openai: FakeOpenAI, client: ChatClient) -> None:
    fake_openai.script(Script(text="all of it", body="close"))
    events, error = await run(client)
    assert error is None
    assert text_of(events) == "all of it"
    assert any(isinstance(e, Finished) and e.reason == "stop" for e in events)


async def test_a_whole_json_completion_to_a_stream_request_is_the_reply(
        fake_openai: FakeOpenAI, client: ChatClient) -> None:
    """A server that ignores "stream" answers with the whole completion: before, nothing was
    read from it and an empty reply was stored as complete."""
    fake_openai.script(Script(text="the whole answer", body="json"))
    events, error = await run(client)
    assert error is None
    assert text_of(events) == "the whole answer"
    assert any(isinstance(e, Finished) and e.reason == "stop" for e in events)


async def test_a_stream_closed_before_any_text_is_an_error(fake_openai: FakeOpenAI,
                                                            client: ChatClient) -> None:
    """Only the role chunk, then the close: before, an empty reply stored as complete."""
    fake_openai.script(Script(text="never sent", cut_after=0, body="close"))
    events, error = await run(client)
    assert isinstance(error, StreamCut)
    assert not text_of(events)


@pytest.mark.parametrize("status", [401, 400])
async def test_a_server_quoting_the_key_back_never_shows_it(
        fake_openai: FakeOpenAI, client: ChatClient, status: int) -> None:
    """Some servers quote the Authorization header in their error message; before, the key
    went into the message shown, the database and exports (only the log hid it)."""
    fake_openai.script(Script(status=status, echo_auth=True, error={"error": {
        "message": "bad credentials", "type": "invalid_request_error"}}))
    events, error = await run(client)
    assert isinstance(error, (AuthError, BadRequest)), error
    assert "bad credentials" in str(error) and "Bearer ***" in str(error)
    assert KEY not in str(error) and KEY not in repr(error.args)


async def test_basic_credentials_from_the_base_url_are_hidden_when_quoted_back(
        fake_openai: FakeOpenAI) -> None:
    url = fake_openai.base_url.replace("http://", "http://someone:pa55word@")
    chat_client = ChatClient(base_url=url, api_key=None, timeout=5, max_retries=0)
    fake_openai.script(Script(status=400, echo_auth=True, error={"error": {
        "message": "refused", "type": "invalid_request_error"}}))
    try:
        events, error = await run(chat_client)
    finally:
        await chat_client.aclose()
    assert error is not None and "refused" in str(error)
    import base64

    basic = base64.b64encode(b"someone:pa55word").decode()
    assert basic.rstrip("=") not in str(error) and "pa55word" not in str(error)


def test_a_model_refused_as_not_found_but_listed_gets_no_look_alike() -> None:
    """Before: "model 'gpt-4o-mini' not found …: did you mean 'gpt-4o-mini'?"."""
    from tui.core.client_errors import model_not_found

    error = model_not_found("gpt-4o-mini", "http://host/v1", ["gpt-4o-mini", "gpt-4o"])
    assert "did you mean" not in str(error)
    assert "its model list has it" in str(error)
    other = model_not_found("gpt-4o-mni", "http://host/v1", ["gpt-4o-mini"])
    assert "did you mean 'gpt-4o-mini'?" in str(other)
