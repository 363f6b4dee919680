"""The TLS context built at the first TLS connection (tui/core/tls_trust.py), over real sockets
through the SDK client's own transport (httpx2 + the asyncio backend)."""

from __future__ import annotations

import ssl

import httpx2
import pytest

from tests.fake_openai.server import FakeOpenAI
from tests.test_net_backend import CERT, client, port_of, tls_server
from tui.core.client import ChatClient
from tui.core.tls_trust import DeferredTrust


class Counted:
    """A context builder that counts its calls."""

    def __init__(self, build) -> None:
        self.build = build
        self.calls = 0

    def __call__(self) -> ssl.SSLContext:
        self.calls += 1
        return self.build()


async def test_the_context_is_built_once_by_the_first_tls_connection() -> None:
    builder = Counted(lambda: ssl.create_default_context(cafile=str(CERT)))
    trust = DeferredTrust(builder)
    server = await tls_server()
    async with server, client(verify=trust) as http:
        assert builder.calls == 0
        for _ in range(2):  # the second on a new connection: the server closed the first
            response = await http.get(f"https://127.0.0.1:{port_of(server)}/")
            assert response.text == "hello"
    assert builder.calls == 1
    assert trust.built


async def test_verification_is_the_built_contexts() -> None:
    """The system's CAs (httpx2's default) do not trust the test certificate: refused."""
    trust = DeferredTrust(httpx2.create_ssl_context)
    server = await tls_server()
    async with server, client(verify=trust) as http:
        with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"https://127.0.0.1:{port_of(server)}/")


async def test_alpn_set_before_the_build_reaches_the_built_context() -> None:
    trust = DeferredTrust(lambda: ssl.create_default_context(cafile=str(CERT)))
    trust.set_alpn_protocols(["http/1.1"])
    built = trust.prepare()
    obj = built.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="127.0.0.1")
    assert obj.context is built
    # What the SDK's pool set before the build is on the context connections use: a
    # handshake against a server that speaks only h2 would fail, this one speaks http/1.1.
    server = await tls_server()
    async with server, client(verify=trust) as http:
        assert (await http.get(f"https://127.0.0.1:{port_of(server)}/")).text == "hello"


async def test_a_plain_http_server_never_loads_the_trust_store() -> None:
    """``gpt-tui ask`` against a local server: no CA file read (~22 ms)."""
    with FakeOpenAI() as server:
        chat = ChatClient(base_url=server.base_url, api_key="sk-test")
        try:
            assert [model.id for model in await chat.list_models()]
            pool = chat._sdk._client._transport._pool  # type: ignore[union-attr]
            assert isinstance(pool._ssl_context, DeferredTrust)
            assert not pool._ssl_context.built
        finally:
            await chat.aclose()


async def test_an_https_server_gets_the_context_built_while_warming() -> None:
    """The app warms the client in a thread: the CA file is read there, not on the event
    loop at the first request."""
    chat = ChatClient(base_url="https://127.0.0.1:9/v1", api_key="sk-test")
    chat.warm()
    try:
        pool = chat._sdk._client._transport._pool  # type: ignore[union-attr]
        assert pool._ssl_context.built
    finally:
        await chat.aclose()
