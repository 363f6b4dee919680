"""The asyncio network backend under the SDK (tui/core/net_backend.py), over real sockets.

The client tests already run every request through it (timeouts, cut streams, a server that
is down); these cover what they don't: TLS, a body larger than the read buffer, keep-alive
connections the server closed, cancelling a read, and the private attribute it is set on.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpcore2
import httpx2
import pytest

from tui.core import net_backend
from tui.core.client import ChatClient

DATA = Path(__file__).parent / "data"
CERT = DATA / "tls-test-cert.pem"
KEY = DATA / "tls-test-key.pem"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> asyncio.Server:
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)


def port_of(server: asyncio.Server) -> int:
    return server.sockets[0].getsockname()[1]


async def read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


def client(**kwargs: object) -> httpx2.AsyncClient:
    transport = httpx2.AsyncHTTPTransport(**kwargs)  # type: ignore[arg-type]
    assert net_backend.install(transport)
    return httpx2.AsyncClient(transport=transport)


async def test_the_sdk_client_reads_through_the_asyncio_backend() -> None:
    chat = ChatClient(base_url="http://127.0.0.1:9/v1", api_key="sk-test")
    chat.warm()
    try:
        pool = chat._sdk._client._transport._pool  # type: ignore[union-attr]
        assert isinstance(pool._network_backend, net_backend.AsyncioBackend)
    finally:
        await chat.aclose()


def test_install_finds_the_private_attribute_it_sets() -> None:
    """httpx2 takes no backend argument: if its pool loses ``_network_backend``, install
    says so (and the app logs it) instead of setting an attribute nothing reads."""
    transport = httpx2.AsyncHTTPTransport()
    assert isinstance(transport._pool, httpcore2.AsyncConnectionPool)
    assert hasattr(transport._pool, "_network_backend")
    assert net_backend.install(transport)
    proxied = httpx2.AsyncHTTPTransport(proxy="http://127.0.0.1:9")
    assert not net_backend.install(proxied)


async def test_a_body_larger_than_the_buffer_arrives_whole() -> None:
    body = bytes(range(256)) * 8192  # 2 MiB: reading pauses and resumes the socket

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()
        writer.close()

    server = await serve(handler)
    async with server, client() as http:
        async with http.stream("GET", f"http://127.0.0.1:{port_of(server)}/") as response:
            got = b""
            async for piece in response.aiter_raw():
                got += piece
                await asyncio.sleep(0)  # a slow reader: the buffer fills
    assert got == body


def server_tls() -> ssl.SSLContext:
    """The test certificate's side of a TLS connection."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT, KEY)
    return context


async def tls_server() -> asyncio.Server:
    """Answers "hello" over TLS with the test certificate, one request a connection."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        await writer.drain()
        writer.close()

    return await serve(handler, tls=server_tls())


async def test_tls() -> None:
    server = await tls_server()
    async with server:
        async with client(verify=ssl.create_default_context(cafile=str(CERT))) as http:
            response = await http.get(f"https://127.0.0.1:{port_of(server)}/")
            assert response.text == "hello"
        async with client() as untrusted:  # the system's CAs: the handshake must fail
            with pytest.raises(httpx2.ConnectError):
                await untrusted.get(f"https://127.0.0.1:{port_of(server)}/")


async def test_a_keep_alive_connection_the_server_closed_is_not_reused() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        # Says keep-alive, then closes anyway (as servers do after their idle timeout).
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await serve(handler)
    async with server, client() as http:
        url = f"http://127.0.0.1:{port_of(server)}/"
        assert (await http.get(url)).text == "ok"
        await asyncio.sleep(0.05)  # the close reaches the idle connection
        assert (await http.get(url)).text == "ok"
    assert connections == 2


async def test_a_read_times_out_and_a_cancelled_read_is_cancelled() -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        await writer.drain()
        await release.wait()  # then nothing more
        writer.close()

    server = await serve(handler)
    async with server, client() as http:
        url = f"http://127.0.0.1:{port_of(server)}/"
        with pytest.raises(httpx2.ReadTimeout):
            async with http.stream("GET", url, timeout=httpx2.Timeout(5, read=0.2)) as response:
                async for _ in response.aiter_raw():
                    pass

        async def read_forever() -> None:
            async with http.stream("GET", url, timeout=httpx2.Timeout(5, read=30)) as response:
                async for _ in response.aiter_raw():
                    pass

        task = asyncio.create_task(read_forever())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()


async def test_a_connection_cut_mid_body_is_a_read_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        writer.transport.abort()

    server = await serve(handler)
    async with server, client() as http:
        with pytest.raises((httpx2.ReadError, httpx2.RemoteProtocolError)):
            await http.get(f"http://127.0.0.1:{port_of(server)}/")


def paced_body(pieces: list[bytes], pause: float) -> Handler:
    """A server answering with ``pieces`` as one body, each written ``pause`` s apart."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % sum(map(len, pieces)))
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(pause)
        writer.close()

    return handler


async def read_gathering(server: asyncio.Server, gather: float) -> tuple[bytes, list[float]]:
    """The body ``server`` sends, read with ``gather`` set, and when each read came."""
    loop = asyncio.get_running_loop()
    async with server, client() as http:
        async with http.stream("GET", f"http://127.0.0.1:{port_of(server)}/") as response:
            stream = response.extensions["network_stream"]
            assert isinstance(stream, net_backend.AsyncioStream)
            stream.gather = gather
            got, times = b"", []
            async for piece in response.aiter_raw():
                got += piece
                times.append(loop.time())
    return got, times


async def test_a_gathering_stream_reads_what_arrived_meanwhile_at_once() -> None:
    """``gather``: after a read, the next comes no sooner than that, with everything the
    server sent meanwhile (a streamed reply's events, one per token, read a few at a time)."""
    pieces = [b"event %02d\n" % n for n in range(30)]
    gather = 0.03
    server = await serve(paced_body(pieces, 0.002))  # 30 writes over ~60 ms
    got, times = await read_gathering(server, gather)
    assert got == b"".join(pieces)
    assert len(times) <= 6, f"{len(times)} reads for 30 writes ~2 ms apart"
    # The first two reads measure the rate the server sends at (slow here: 4.5 KB/s, far
    # from GATHER_BYTES in 30 ms); every later read waited out the whole gather.
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert gaps[2:] and all(gap >= gather * 0.9 for gap in gaps[2:]), gaps


async def test_a_gathering_stream_still_sees_the_server_close() -> None:
    """The socket unwatched while gathering, a close (or the body's end) is still read."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nfirst ")  # close-delimited body
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"second")
        writer.close()

    server = await serve(handler)
    async with server, client() as http:
        async with http.stream("GET", f"http://127.0.0.1:{port_of(server)}/") as response:
            response.extensions["network_stream"].gather = 0.05
            got = b"".join([piece async for piece in response.aiter_raw()])
    assert got == b"first second"


async def test_a_fast_stream_is_gathered_for_moments_only() -> None:
    """A server sending fast (here 1 MB/s) fills ``GATHER_BYTES`` in a few ms: that is all
    a read waits, however long ``gather`` allows, or a fast reply's end would show later."""
    pieces = [bytes([65 + n % 26]) * 1024 for n in range(64)]
    server = await serve(paced_body(pieces, 0.001))  # 64 KB over ~64 ms
    loop = asyncio.get_running_loop()
    async with server, client() as http:
        async with http.stream("GET", f"http://127.0.0.1:{port_of(server)}/") as response:
            response.extensions["network_stream"].gather = 1.0
            got, reads, started = b"", 0, loop.time()
            async for piece in response.aiter_raw():
                got += piece
                reads += 1
            took = loop.time() - started
    assert got == b"".join(pieces)
    assert took < 0.5, took  # a whole second's wait after any read would show here
    assert reads < 40, reads  # and the waits did gather: not a read per piece


async def test_a_slow_stream_is_read_twice_a_second() -> None:
    """At 20 tok/s an event comes every 50 ms: waiting ``gather`` (20 ms) after a read merged
    nothing and cost a wake-up more. A slow stream (under SLOW_RATE) is read every
    SLOW_GATHER seconds, as often as the app shows a slow stream's text."""
    pieces = [b"%03d" % n + b"x" * 237 for n in range(12)]  # 240-byte events
    server = await serve(paced_body(pieces, 0.04))  # ~6 KB/s
    got, times = await read_gathering(server, 0.02)
    assert got == b"".join(pieces)
    # The first two reads measure the rate; the rest of the ~0.5 s stream comes in one or
    # two more (it was 5-7 reads with a few events' worth each).
    assert len(times) <= 4, f"{len(times)} reads for 12 events 40 ms apart"
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert max(gaps) < net_backend.SLOW_GATHER + 0.1, gaps


def test_the_gather_follows_the_rate() -> None:
    """Fast: until GATHER_BYTES would have come; 200 tok/s: ``gather``; a little slower: a
    few events' worth; slow (under SLOW_RATE): SLOW_GATHER."""
    stream = net_backend.AsyncioStream(None, net_backend._Reader())  # type: ignore[arg-type]
    stream.gather = 0.02
    assert stream.gather_for(500_000) == pytest.approx(net_backend.GATHER_BYTES / 500_000)
    assert stream.gather_for(50_000) == pytest.approx(0.02, abs=0.001)
    assert stream.gather_for(20_000) == pytest.approx(net_backend.SLOW_BYTES / 20_000)
    assert stream.gather_for(net_backend.SLOW_RATE - 1) == net_backend.SLOW_GATHER
    assert stream.gather_for(1_000) == net_backend.SLOW_GATHER


def test_setting_gather_starts_measuring_anew() -> None:
    """A pooled connection carries one reply after another: what the last one's server
    rate was says nothing about the next."""
    stream = net_backend.AsyncioStream(None, net_backend._Reader())  # type: ignore[arg-type]
    stream._rate, stream._last_read = 10.0, 5.0
    stream.gather = 0.02
    assert stream.gather == 0.02
    assert stream._rate is None and stream._last_read == float("-inf")


async def test_a_gathering_stream_over_tls() -> None:
    """The hosted APIs stream over TLS: unwatching the socket and watching it again goes
    through the TLS transport, and every byte still arrives."""
    pieces = [b"event %02d\n" % n for n in range(20)]
    server = await serve(paced_body(pieces, 0.002), tls=server_tls())
    trusted = ssl.create_default_context(cafile=str(CERT))
    async with server, client(verify=trusted) as http:
        url = f"https://127.0.0.1:{port_of(server)}/"
        async with http.stream("GET", url) as response:
            response.extensions["network_stream"].gather = 0.02
            got, reads = b"", 0
            async for piece in response.aiter_raw():
                got += piece
                reads += 1
    assert got == b"".join(pieces)
    assert reads <= 6, f"{reads} reads for 20 writes ~2 ms apart"
