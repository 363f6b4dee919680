"""An asyncio network backend for httpcore2, the HTTP layer under the openai SDK.

A streamed reply arrives as one small SSE event per token, and every event is a socket read.
httpcore2's default backend reads through anyio, which wraps each read in a cancel scope
(``fail_after``) and a memory stream: measured in the app at 200 tok/s (cProfile of the
reply's task), those two were half of the time it took to read an event. This backend reads
from a plain asyncio ``Protocol`` that buffers what the socket delivers; a read takes the
buffered bytes or waits on one future, its timeout a single ``call_later`` handle.

Everything else stays httpcore2's: HTTP/1.1 parsing, pooling, TLS through the loop's
``start_tls``, and the same exceptions (``ReadTimeout``, ``ReadError``, ``ConnectError``...)
that httpx2 turns into the ones the client catches. Proxies keep httpx2's own transports.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore2

__all__ = ["AsyncioBackend", "AsyncioStream", "install"]

HIGH_WATER = 256 * 1024
"""Bytes buffered before the socket stops being read (a reader that is not keeping up)."""

GATHER_BYTES = 2048
"""A gathering stream waits for about this much (ten events of a streamed reply) at the rate
the server has been sending, ``gather`` at most: at 200 tok/s the whole 20 ms, at 2,000
tok/s ~5 ms. Waiting 20 ms there too put the last words ~10 ms later for nothing: a fast
stream's reads are large anyway."""

SLOW_BYTES = 1024
"""A stream below SLOW_RATE is gathered until about this much has come (four events of a
streamed reply), past ``gather``. At 20 tok/s an event comes every 50 ms: a 20 ms gather
merged nothing and only added a wake-up (measured, the client alone: 1.0 ms of CPU a token
with it, 0.63 without, 0.30 reading four at a time). Each wake-up of an idle process costs
the same few hundred microseconds whatever it brings."""
SLOW_RATE = 12 * 1024
"""Bytes a second under which a stream is slow (~50 tok/s, at ~240 bytes an event): it is
read every SLOW_GATHER seconds."""
SLOW_GATHER = 0.5
"""Seconds a slow stream's read waits: the app shows a slow stream's new text twice a second
anyway (``FramePacer.max_stale``), so reading it more often only woke the app up for text
that waited to be shown (a pty at 20 tok/s, interleaved, with a table measured instead of
laid out: 0.0242 -> 0.0200 cores). It is also how much later the last words of a slow reply
can show (a 20 tok/s reply's: 72 ms median against 129 before, as each read now shows at
once, ``FramePacer.due``)."""


class _Reader(asyncio.Protocol):
    """Buffers what the socket delivers; wakes the one reader waiting for it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None
        self.paused = False
        self.writing_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport: HTTP/1.1 never half-closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None:
            self.error = exc
        self._wake()
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        data = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        rest = data[max_bytes:]
        data = data[:max_bytes]
        self.chunks = [rest] if rest else []
        self.buffered = len(rest)
        if self.paused and self.buffered <= HIGH_WATER // 4 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data


async def _until(future: asyncio.Future[None], timeout: float | None,
                 error: type[Exception], what: str) -> None:
    """Await ``future``, raising ``error`` after ``timeout`` seconds (None: no limit)."""
    if timeout is None:
        await future
        return
    expired = False

    def expire() -> None:
        nonlocal expired
        if not future.done():
            expired = True
            future.cancel()

    handle = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        await future
    except asyncio.CancelledError:
        if not expired:
            raise  # the task itself was cancelled
        raise error(f"{what} timed out") from None
    finally:
        handle.cancel()


class AsyncioStream(httpcore2.AsyncNetworkStream):
    """One connection: a transport and the protocol buffering what it reads."""

    def __init__(self, transport: asyncio.Transport, reader: _Reader) -> None:
        self._transport = transport
        self._reader = reader
        self._gather = 0.0
        self._last_read = float("-inf")
        self._rate: float | None = None
        """Bytes a second the reads have been bringing (a running average)."""

    @property
    def gather(self) -> float:
        """Seconds at most: when set, a read that finds nothing buffered waits, the socket
        left unwatched, for what the server sends meanwhile (see :meth:`_gathered`). Each
        setting starts measuring the server's rate anew (a connection is reused by other
        replies)."""
        return self._gather

    @gather.setter
    def gather(self, seconds: float) -> None:
        self._gather = seconds
        self._last_read = float("-inf")
        self._rate = None

    async def _gathered(self) -> None:
        """Let what the server sends collect in the kernel before the next read. A streamed
        reply sends an event per token: at 200 tok/s, watched all along, the socket woke the
        app 200 times a second, each wake-up costing more than the event it brought
        (measured: a bare asyncio read of an SSE stream 5 ms apart took 170 us of CPU an
        event; read every 40 ms, 55 us). Reading stops being watched, not the task merely
        waiting: the loop would still wake for every packet."""
        if not self._rate:
            return  # one read so far: the rate is not known yet
        loop = asyncio.get_running_loop()
        wait = self._last_read + self.gather_for(self._rate) - loop.time()
        if wait <= 0:
            return
        transport = self._transport
        transport.pause_reading()
        try:
            await asyncio.sleep(wait)
        finally:
            if not self._reader.paused and not transport.is_closing():
                transport.resume_reading()

    def gather_for(self, rate: float) -> float:
        """How long after a read the next waits, the server sending ``rate`` bytes a
        second: until GATHER_BYTES would have come, ``gather`` at most; but a few events'
        worth (SLOW_BYTES) at least; a slow stream's (under SLOW_RATE), SLOW_GATHER."""
        if rate < SLOW_RATE:
            return SLOW_GATHER
        return min(GATHER_BYTES / rate, max(self.gather, SLOW_BYTES / rate))

    def _measure(self, size: int) -> None:
        """A read of ``size`` bytes: the rate the server sends at, and when."""
        now = asyncio.get_running_loop().time()
        elapsed = now - self._last_read
        if elapsed > 0 and elapsed != float("inf"):
            rate = size / elapsed
            self._rate = rate if self._rate is None else (self._rate + rate) / 2
        self._last_read = now

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        reader = self._reader
        if self.gather and not reader.chunks and not reader.eof and not reader.paused:
            await self._gathered()
        if not reader.chunks and not reader.eof:
            waiter = reader.waiter = asyncio.get_running_loop().create_future()
            try:
                await _until(waiter, timeout, httpcore2.ReadTimeout, "read")
            finally:
                reader.waiter = None
        if reader.chunks:
            data = reader.take(max_bytes)
            if self.gather:
                self._measure(len(data))
            return data
        if reader.error is not None:
            raise httpcore2.ReadError(str(reader.error) or type(reader.error).__name__)
        return b""  # end of stream

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        reader = self._reader
        if self._transport.is_closing():
            raise httpcore2.WriteError("the connection is closed")
        self._transport.write(buffer)
        if reader.writing_paused:
            drained = reader.drained = asyncio.get_running_loop().create_future()
            try:
                await _until(drained, timeout, httpcore2.WriteTimeout, "write")
            finally:
                reader.drained = None
            if reader.error is not None:
                raise httpcore2.WriteError(str(reader.error))

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore2.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            transport = await loop.start_tls(
                self._transport, self._reader, ssl_context, server_hostname=server_hostname,
                ssl_handshake_timeout=timeout)
        except (TimeoutError, asyncio.TimeoutError) as error:
            self._transport.close()
            raise httpcore2.ConnectTimeout(str(error) or "TLS handshake timed out") from None
        except (OSError, ssl.SSLError, ConnectionError) as error:
            self._transport.close()
            raise httpcore2.ConnectError(str(error)) from None
        if transport is None:
            raise httpcore2.ConnectError("the connection closed during the TLS handshake")
        self._reader.transport = transport  # type: ignore[assignment]
        return AsyncioStream(transport, self._reader)  # type: ignore[arg-type]

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        if info == "is_readable":
            # An idle keep-alive connection with bytes or an EOF waiting was closed by the
            # server: httpcore2 then opens a new one instead of reusing it.
            reader = self._reader
            return bool(reader.chunks) or reader.eof or transport.is_closing()
        return None


class AsyncioBackend(httpcore2.AsyncNetworkBackend):
    """httpcore2's network backend on the running asyncio loop (see the module's doc)."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore2.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await _connect(
            lambda reader: loop.create_connection(
                lambda: reader, host, port,
                local_addr=(local_address, 0) if local_address else None),
            f"{host}:{port}", timeout, socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore2.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await _connect(
            lambda reader: loop.create_unix_connection(lambda: reader, path),
            path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connect(open_connection: Callable[[_Reader], Awaitable[tuple[Any, Any]]],
                   where: str, timeout: float | None,
                   socket_options: Iterable[Any] | None) -> AsyncioStream:
    """A connection made by ``open_connection`` (the loop's), httpcore2's errors on failure."""
    reader = _Reader()
    try:
        async with asyncio.timeout(timeout):
            transport, _ = await open_connection(reader)
    except (TimeoutError, asyncio.TimeoutError):
        raise httpcore2.ConnectTimeout(f"connecting to {where} timed out") from None
    except OSError as error:
        raise httpcore2.ConnectError(str(error)) from None
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        if sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(*option)
    return AsyncioStream(transport, reader)


def install(transport: Any) -> bool:
    """Put the backend under an httpx2 transport's connection pool (not a proxy's).

    httpx2's transport takes no backend argument, so this sets the pool's private
    ``_network_backend``; ``tests/test_net_backend.py`` checks the attribute is still
    there. Returns whether it was installed."""
    pool = getattr(transport, "_pool", None)
    if type(pool) is not httpcore2.AsyncConnectionPool or not hasattr(pool, "_network_backend"):
        return False
    pool._network_backend = AsyncioBackend()
    return True
