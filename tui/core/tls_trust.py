"""A TLS client context that loads the system's trust store when a TLS connection needs it.

httpx2 builds its default context, which reads every CA certificate the system trusts
(~22 ms), when a transport is built, for every client. Against a local server over plain
http (Ollama, llama.cpp, vLLM on 127.0.0.1) no TLS connection is ever made, and each
``gpt-tui ask`` paid that for nothing. :class:`DeferredTrust` stands in for that context:
it is httpx2's own default, built by the first connection that starts TLS (or earlier, by
:meth:`DeferredTrust.prepare`, in a thread), so verification is exactly what it was.

httpcore2 only sets the ALPN protocols on the context it is given and hands it to the event
loop's ``start_tls``, which calls ``wrap_bio``; those are the calls passed on.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["DeferredTrust"]


class DeferredTrust(ssl.SSLContext):
    """An ``ssl.SSLContext`` whose connections use ``build()``'s context, built once."""

    def __new__(cls, build: Callable[[], ssl.SSLContext]) -> DeferredTrust:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, build: Callable[[], ssl.SSLContext]) -> None:
        self._build = build
        self._built: ssl.SSLContext | None = None
        self._alpn: list[str] | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._built is not None

    def prepare(self) -> ssl.SSLContext:
        """The real context, built now if it was not (blocking: ~20 ms of file reading)."""
        with self._lock:
            if self._built is None:
                context = self._build()
                if self._alpn is not None:
                    context.set_alpn_protocols(self._alpn)
                self._built = context
            return self._built

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        with self._lock:
            self._alpn = list(alpn_protocols)
            if self._built is not None:
                self._built.set_alpn_protocols(self._alpn)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        return self.prepare().wrap_bio(*args, **kwargs)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        return self.prepare().wrap_socket(*args, **kwargs)
