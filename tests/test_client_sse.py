"""ChatClient's own SSE reading: wire shapes the fake server does not produce.

The client sends the request through the SDK but decodes the event stream itself, so these
tests talk to a tiny raw HTTP server (stdlib, in a thread) that answers each chat request
with exactly the bytes a test gives it: keep-alive comments, CRLF, multi-line events, error
objects mid-stream as OpenAI and vLLM send them. The decoder is also fed every split of a
body, since where a read boundary falls is up to the network.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tui.core.client import (
    ChatClient,
    ClientError,
    ContextLengthExceeded,
    Finished,
    SSEDecoder,
    StreamCut,
    TextDelta,
    UsageReport,
)

HELLO = [{"role": "user", "content": "hello"}]


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                     "total_tokens": prompt + completion}}


def data(payload: dict[str, Any] | str, eol: str = "\n") -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {text}{eol}{eol}".encode()


class RawSSE:
    """An HTTP/1.1 server answering every POST with ``body`` pieces as chunked SSE."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.connections = 0
        self.requests = 0
        raw = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                raw.connections += 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                raw.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for piece in raw.pieces:
                        self.wfile.write(b"%X\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except OSError:  # the client hung up after an error event: expected
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@contextlib.contextmanager
def serving(httpd: ThreadingHTTPServer) -> Iterator[None]:
    """``httpd`` answering in a thread until the block ends (the raw servers of these tests)."""
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.asynccontextmanager
async def raw_client(base_url: str) -> AsyncIterator[ChatClient]:
    """A client of a raw server: no retries, a short timeout."""
    chat_client = ChatClient(base_url=base_url, api_key=None, timeout=5, max_retries=0)
    try:
        yield chat_client
    finally:
        await chat_client.aclose()


@pytest.fixture
def raw_sse() -> Iterator[RawSSE]:
    server = RawSSE()
    with serving(server.httpd):
        yield server


@pytest.fixture
async def client(raw_sse: RawSSE) -> AsyncIterator[ChatClient]:
    async with raw_client(raw_sse.base_url) as chat_client:
        yield chat_client


async def run(client: ChatClient) -> tuple[list[Any], ClientError | None]:
    events: list[Any] = []
    try:
        async for event in client.stream_chat("m", HELLO):
            events.append(event)
    except ClientError as exc:
        return events, exc
    return events, None


async def test_keepalive_comments_and_other_fields_are_skipped(raw_sse: RawSSE,
                                                                client: ChatClient) -> None:
    raw_sse.pieces = [b": ping\n\n", b"retry: 3000\nid: 1\n" + data(chunk("Hel")),
                      b": OPENROUTER PROCESSING\n\n" + data(chunk("lo")) + b":\n\n",
                      data(chunk(finish="stop")), data(usage(5, 2)), b": ping\n\n",
                      data("[DONE]")]
    events, error = await run(client)
    assert error is None
    assert events == [TextDelta("Hel"), TextDelta("lo"), Finished("stop"), UsageReport(5, 2)]


async def test_crlf_and_cr_line_endings(raw_sse: RawSSE, client: ChatClient) -> None:
    raw_sse.pieces = [data(chunk("one"), "\r\n"), data(chunk(" two"), "\r"),
                      b": ping\r\n\r\n" + data(chunk(finish="stop"), "\r\n"),
                      data("[DONE]", "\r\n")]
    events, error = await run(client)
    assert error is None
    assert events == [TextDelta("one"), TextDelta(" two"), Finished("stop")]


async def test_multi_line_event_and_no_space_after_colon(raw_sse: RawSSE,
                                                         client: ChatClient) -> None:
    body = json.dumps(chunk("multi\nline"), indent=1)  # JSON spread over several data lines
    event = "".join(f"data: {line}\n" for line in body.splitlines()) + "\n"
    raw_sse.pieces = [event.encode(), b"data:" + json.dumps(chunk(" ok", "stop")).encode()
                      + b"\n\n", b"data:[DONE]\n\n"]
    events, error = await run(client)
    assert error is None
    assert events == [TextDelta("multi\nline"), TextDelta(" ok"), Finished("stop")]


async def test_error_object_mid_stream_keeps_partial_reply(raw_sse: RawSSE,
                                                           client: ChatClient) -> None:
    vllm = {"error": {"object": "error", "message": "The engine died\nunexpectedly.",
                      "type": "InternalServerError", "param": None, "code": 500}}
    raw_sse.pieces = [data(chunk("partial")), data(chunk(" answer")), data(vllm),
                      data(chunk(" never seen")), data("[DONE]")]
    events, error = await run(client)
    assert events == [TextDelta("partial"), TextDelta(" answer")]
    assert isinstance(error, StreamCut)
    assert str(error) == ("the server ended the reply with an error: "
                          "The engine died unexpectedly.")


async def test_error_event_named_error(raw_sse: RawSSE, client: ChatClient) -> None:
    raw_sse.pieces = [data(chunk("a")), b"event: error\ndata: {\"message\": \"overloaded\"}\n\n"]
    events, error = await run(client)
    assert events == [TextDelta("a")]
    assert isinstance(error, StreamCut) and str(error).endswith(": overloaded")


async def test_context_error_in_stream_is_context_length_exceeded(raw_sse: RawSSE,
                                                                   client: ChatClient) -> None:
    openai_style = {"error": {
        "message": "This model's maximum context length is 4096 tokens. However, your "
                   "messages resulted in 5000 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}
    raw_sse.pieces = [data(openai_style)]
    events, error = await run(client)
    assert events == []
    assert isinstance(error, ContextLengthExceeded)
    assert (error.limit, error.requested) == (4096, 5000)


async def test_unreadable_event_ends_the_reply(raw_sse: RawSSE, client: ChatClient) -> None:
    raw_sse.pieces = [data(chunk("a")), b"data: {not json\n\n"]
    events, error = await run(client)
    assert events == [TextDelta("a")]
    assert isinstance(error, StreamCut) and "unreadable event" in str(error)


async def test_end_without_done_or_finish_reason(raw_sse: RawSSE, client: ChatClient) -> None:
    # The last event is not followed by a blank line: dropped, as the SSE spec says. With
    # neither a finish reason nor [DONE], nothing says the reply was whole (here it was not:
    # "lost" is lost): a cut, its text so far kept, not a complete reply.
    raw_sse.pieces = [data(chunk("only")), b"data: " + json.dumps(chunk("lost")).encode()]
    events, error = await run(client)
    assert events == [TextDelta("only")]
    assert isinstance(error, StreamCut) and "before it was complete" in str(error)


async def test_connection_is_reused_after_done(raw_sse: RawSSE, client: ChatClient) -> None:
    raw_sse.pieces = [data(chunk("hi", "stop")), data("[DONE]")]
    for _ in range(3):
        events, error = await run(client)
        assert error is None and events == [TextDelta("hi"), Finished("stop")]
    assert raw_sse.requests == 3
    assert raw_sse.connections == 1  # the body was read to its end after [DONE]


# --- the decoder on its own: every place a read can end ---------------------------------

BODY = (b": ping\r\n\r\nevent: message\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n"
        b"data: two\n\ndata:three\r\rid: 4\ndata: [DONE]\n\n")
EVENTS = [(b"message", b"{\"a\":\n1}"), (b"", b"two"), (b"", b"three"), (b"", b"[DONE]")]


def test_decoder_every_single_split() -> None:
    for cut in range(len(BODY) + 1):
        decoder = SSEDecoder()
        got = decoder.feed(BODY[:cut]) + decoder.feed(BODY[cut:])
        assert got == EVENTS, cut


def test_decoder_byte_by_byte() -> None:
    decoder = SSEDecoder()
    got = [event for i in range(len(BODY)) for event in decoder.feed(BODY[i:i + 1])]
    assert got == EVENTS


def test_decoder_blank_line_pairs_crlf_split_across_reads() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\ndata: y\r\n") == []  # the LF pairs with the CR: no blank line
    assert decoder.feed(b"\r\n") == [(b"", b"x\ny")]


async def test_the_events_of_one_read_come_as_one_delta(raw_sse: RawSSE,
                                                         client: ChatClient) -> None:
    # One chunk of the body holds three events (as a socket read of a fast stream does):
    # the chat flow and the screen get one delta for them, before the finish and the usage.
    raw_sse.pieces = [data(chunk("Hel")) + data(chunk("lo")) + data(chunk(" there")),
                      data(chunk("!")) + data(chunk(finish="stop")) + data(usage(3, 4))
                      + data("[DONE]")]
    events, error = await run(client)
    assert error is None
    assert events[-2:] == [Finished("stop"), UsageReport(3, 4)]
    texts = [event.text for event in events if isinstance(event, TextDelta)]
    assert "".join(texts) == "Hello there!"
    assert len(texts) <= 2, texts


async def test_a_reused_connection_is_read_as_it_comes(raw_sse: RawSSE,
                                                       client: ChatClient) -> None:
    """The gathering is the streamed reply's: the connection goes back to the pool without."""
    from tui.core.net_backend import AsyncioStream

    raw_sse.pieces = [data(chunk("hi", finish="stop")), data("[DONE]")]
    await run(client)
    pool = client._sdk._client._transport._pool  # type: ignore[union-attr]
    streams = [connection._connection._network_stream for connection in pool.connections]
    assert streams and all(isinstance(stream, AsyncioStream) for stream in streams)
    assert client.read_gather > 0
    assert all(stream.gather == 0 for stream in streams)


async def test_text_read_with_an_error_event_is_kept(raw_sse: RawSSE,
                                                     client: ChatClient) -> None:
    # The words and the error in one read (a gathered stream reads several events at once):
    # the words reach the caller before the error, so the partial reply keeps them.
    error = {"error": {"message": "The engine died", "type": "InternalServerError"}}
    raw_sse.pieces = [data(chunk("partial")) + data(chunk(" answer")) + data(error)]
    events, failure = await run(client)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "partial answer"
    assert isinstance(failure, StreamCut)
