"""The model client: Chat Completions over the official ``openai`` SDK's ``AsyncOpenAI``.

It turns a streamed reply into a few plain events (text, finish, usage, retry notices) and
every failure into one ``ClientError`` with a specific message, so the chat flow and the UI
never deal with SDK types. It owns the policies that depend on the server: which parameters a
model takes (learned from 400s), retries with backoff it can report (the SDK's own are off),
which key goes to which host, and how to ask a server for its context window.

Consumers of ``stream_chat`` should iterate it inside ``contextlib.aclosing`` (or let the
cancel land while awaiting the next event): its ``finally`` closes the HTTP stream.

Its parts: the request's arguments and the parameters a server refused (``client_params``),
the retry and error rules (``client_failures``), the model list and window probes
(``client_models``); ``ChatClient`` inherits the last two, and every name stays importable
from here.

The SDK is imported when the client is first used, not when it is built: the import costs
~0.25 s even with its type packages deferred (``sdk_import``; ~0.45 s and 7 MB more without),
and the app draws its first frame before paying it (it calls ``warm`` in a thread after that
frame). A request made before then waits for the import in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.core import client_errors as errors
from tui.core.client_errors import (
    AuthError,
    BadRequest,
    ClientError,
    ConnectFailed,
    ContextLengthExceeded,
    ModelNotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamCut,
)
from tui.core.client_failures import FailurePolicy
from tui.core.client_models import ModelQueries
from tui.core.client_params import (
    MAX_PARAM_FIXES,
    RefusedParams,
    is_reasoning_model,
    request_body,
    request_kwargs,
)
from tui.core.client_records import (
    Completion,
    Finished,
    ModelInfo,
    RequestParams,
    Retrying,
    StreamEvent,
    TextDelta,
    UsageReport,
)
from tui.core.gc_pause import collector_paused
from tui.core.hosts import is_openai_host, redact_url, request_secrets, scrub, split_query
from tui.core.sse import SSEDecoder, completion, is_json_body, read_events

__all__ = [
    "AuthError", "BadRequest", "ChatClient", "ClientError", "Completion", "ConnectFailed",
    "ContextLengthExceeded", "Finished", "ModelInfo", "ModelNotFound", "NO_KEY", "RateLimited",
    "RequestParams", "RequestTimeout", "Retrying", "ServerError", "StreamCut", "StreamEvent",
    "TextDelta", "UsageReport", "is_reasoning_model", "key_for_host",
]

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Sent when there is no key for the host: local servers ignore it, the SDK insists on one.
NO_KEY = "not-needed"
# After [DONE], how long to wait for the end of the body (for connection reuse) before closing.
DRAIN_TIMEOUT = 0.1
READ_GATHER = 0.02
"""Seconds a streamed reply's socket goes unread after each read at most
(``AsyncioStream.gather``): an event per token arrives 5 ms apart at 200 tok/s, and reading
them four or five at a time took the app's CPU while streaming from 0.133 to 0.113 cores
(interleaved runs in a pty; 12 ms: 0.129). The price is up to this much more time before
the last words (median 16 -> 28 ms in the same runs), within the 50 ms the lag row allows.
The events read at once reach the view as one delta (``ReplyStreams._gather``: a chunked
body gives a piece per event). A slower stream waits longer, for a few events
(``net_backend.SLOW_BYTES``): at 20 tok/s 20 ms merged nothing."""
CHAT_PATH = "/chat/completions"

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import httpx2
    import openai

    from tui.core.tls_trust import DeferredTrust


def import_sdk() -> None:
    """Import the openai SDK and its HTTP layer as this module's ``openai``/``httpx2``.

    Everything that uses them runs after ``ChatClient._client()``, which calls this first
    (the parts in other modules import them inside the functions that run after it).
    """
    global httpx2, openai
    from tui.core.sdk_import import defer_types_package

    defer_types_package()  # ~200 ms less: see sdk_import
    import httpx2
    import openai

    _import_anyio_backend()


def _import_anyio_backend() -> None:
    """anyio's asyncio backend (~10 ms), which httpcore2's connection pool imports for its
    locks at the first request: here, in the importing thread, not then on the event loop.
    A later anyio that moves it only makes the first request pay for it again."""
    import importlib

    import anyio

    anyio.Lock  # noqa: B018 (a lazy name: this imports its module)
    with contextlib.suppress(ImportError):
        importlib.import_module("anyio._backends._asyncio")


def _http_client(trust: DeferredTrust) -> Any:
    """The SDK's own default HTTP client, its connections read by the asyncio backend
    (``net_backend``: half the cost of reading each streamed token), its TLS context
    httpx2's default built when first needed (``tls_trust``: never, over plain http)."""
    from tui.core import net_backend

    transport = httpx2.AsyncHTTPTransport(verify=trust,
                                          limits=openai.DEFAULT_CONNECTION_LIMITS)
    if not net_backend.install(transport):
        log.warning("httpx2's connection pool changed: reading through anyio as before")
    return openai.DefaultAsyncHttpxClient(transport=transport)


def key_for_host(base_url: str | None, api_key: str | None, *,
                 send_key_to_any_host: bool) -> str:
    """The key to send to ``base_url``: the real one only to OpenAI unless allowed.

    Guards against leaking an OpenAI key to whatever server a base URL points at; the caller
    allows it when key and base URL were configured together (e.g. both from the environment
    for OpenRouter).
    """
    if not api_key:
        return NO_KEY
    if send_key_to_any_host:
        return api_key
    if is_openai_host(base_url or OPENAI_BASE_URL):
        return api_key
    return NO_KEY


@dataclass
class _Opened:
    """What a successful attempt returned: a raw streaming response, or a whole completion."""

    value: Any


class ChatClient(ModelQueries, FailurePolicy):
    """Chat Completions against one server; the model list and window probes are in
    :class:`ModelQueries`, the retry and error rules in :class:`FailurePolicy`."""

    def __init__(self, *, base_url: str | None, api_key: str | None,
                 timeout: float = 60.0, max_retries: int = 3,
                 backoff_base: float = 0.5, backoff_max: float = 20.0,
                 max_retry_wait: float = 60.0, send_key_to_any_host: bool = False,
                 rng: random.Random | None = None, read_gather: float = READ_GATHER) -> None:
        """``max_retry_wait``: a 429 asking to wait longer than this fails at once instead.
        ``read_gather``: see READ_GATHER (0 reads a streamed reply as it comes)."""
        self.base_url = (base_url or OPENAI_BASE_URL).rstrip("/")
        # What messages say: the base URL without credentials or secret query values.
        self.shown_url = redact_url(self.base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_wait = max_retry_wait
        self.read_gather = read_gather
        self._rng = rng or random.Random()
        key = key_for_host(self.base_url, api_key, send_key_to_any_host=send_key_to_any_host)
        self._key_withheld = bool(api_key) and key == NO_KEY
        # What a request carries that a server's error message may echo (the key in an
        # "Authorization: Bearer" it quotes back, say): hidden in every error raised here.
        self._secrets = request_secrets(self.base_url, None if self._key_withheld else key)
        # A query in the base URL (``?api_key=...``, ``?api-version=...``) goes with every
        # request as the SDK's default query: left in the URL, the SDK appended each path
        # after it ("/v1?api_key=kchat/completions") and no request could work.
        self.endpoint_url, query = split_query(self.base_url)
        self._sdk_options = dict(base_url=self.endpoint_url, api_key=key, timeout=timeout,
                                 max_retries=0, default_query=query or None)
        self._sdk: openai.AsyncOpenAI | None = None
        self._sdk_lock = threading.Lock()
        # What this server refused, per model (learned from its 400s).
        self._refused = RefusedParams()

    @property
    def ready(self) -> bool:
        """The SDK is imported and its client built: requests start without waiting."""
        return self._sdk is not None

    def start_warming(self) -> None:
        """``warm`` in a daemon thread (the app, after its first frame): quitting never
        waits for the import to finish, as it would for an executor thread."""
        threading.Thread(target=self._warm_logged, daemon=True, name="import-openai").start()

    def _warm_logged(self) -> None:
        try:
            self.warm()
        except Exception:  # a request retries it, and reports what went wrong
            log.exception("importing the openai SDK failed")

    def warm(self) -> None:
        """Import the SDK and build its client now; blocking, so for a thread. Idempotent."""
        with self._sdk_lock:
            if self._sdk is None:
                with collector_paused():
                    import_sdk()
                    from tui.core.tls_trust import DeferredTrust

                    trust = DeferredTrust(httpx2.create_ssl_context)
                    sdk = openai.AsyncOpenAI(**self._sdk_options,
                                             http_client=_http_client(trust))
                if self.base_url.lower().startswith("https:"):
                    trust.prepare()  # it will be needed: here, not on the event loop
                self._sdk = sdk

    async def _client(self) -> openai.AsyncOpenAI:
        """The SDK client, imported and built in a thread if that has not happened yet."""
        if self._sdk is None:
            await asyncio.to_thread(self.warm)
        assert self._sdk is not None
        return self._sdk

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()

    def _scrubbed(self, error: ClientError) -> ClientError:
        """``error`` with the request's secrets (the key, the base URL's credentials) hidden
        where a server's message echoed them."""
        error.message = scrub(error.message, self._secrets)
        error.args = (error.message,)
        return error

    # --- chat --------------------------------------------------------------------------------

    async def stream_chat(self, model: str, messages: list[dict[str, str]],
                          params: RequestParams | None = None) -> AsyncIterator[StreamEvent]:
        """Stream one reply. Retries (429, 5xx) only happen before the first delta.

        The request goes through the SDK (auth, base URL, timeouts, status errors); the SSE
        body is read as raw bytes and its JSON decoded here into plain dicts: the SDK's own
        stream would build a pydantic ChatCompletionChunk per token, which was half the app's
        CPU for a fast reply.
        """
        response: Any = None
        async with aclosing(self._attempts(model, messages, params, stream=True)) as attempts:
            async for item in attempts:
                if isinstance(item, Retrying):
                    yield item
                else:
                    response = item.value
        finished = False
        done = False
        events = 0
        decoder = SSEDecoder()
        from tui.core.net_backend import AsyncioStream  # imported with the SDK's client

        network = response.response.extensions.get("network_stream")
        if not isinstance(network, AsyncioStream):
            network = None  # a proxy's transport: read as it comes
        try:
            if is_json_body(response.response):
                # A server that ignores "stream" answers with the whole completion.
                async for event in self._whole_reply(response.response):
                    yield event
                return
            if network is not None:
                network.gather = self.read_gather
            async with aclosing(response.response.aiter_bytes()) as body:
                async for raw in body:
                    got = read_events(decoder, raw)
                    events += got.events
                    if got.finished:
                        finished = True
                        if network is not None:
                            network.gather = 0.0  # the rest comes at once: no wait
                    if got.text:
                        yield TextDelta(got.text)
                    for event in got.after:
                        yield event
                    if got.failure is not None:
                        raise got.failure
                    done = got.done
                    if done:
                        break
                if done:
                    if network is not None:
                        network.gather = 0.0
                    # HTTP/1.1: read the rest (the chunked terminator, already on its way) so
                    # the connection can be reused; bounded, like the SDK's own drain.
                    with contextlib.suppress(TimeoutError, httpx2.TransportError):
                        async with asyncio.timeout(DRAIN_TIMEOUT):
                            async for _ in body:
                                pass
            if not finished and not done:
                # Neither a finish reason nor [DONE]: the body ended early (a connection
                # closed by the server or a proxy, with nothing to say the reply was whole).
                if not events:
                    raise StreamCut(f"{self.shown_url} answered with an empty reply (no "
                                    "events in the stream)")
                raise StreamCut(f"{self.shown_url} ended the reply before it was complete "
                                "(the stream stopped without a finish reason or [DONE])")
            if not finished:
                yield Finished(None)
        except httpx2.TimeoutException:
            if not finished:
                raise RequestTimeout(f"{self.shown_url} stopped sending the reply for "
                                     f"{self.timeout:g} s (timeout)") from None
        except httpx2.TransportError:
            if not finished:
                raise StreamCut(f"the connection to {self.shown_url} was lost mid-reply") from None
        except ClientError as error:  # an error event the server sent in the stream
            raise self._scrubbed(error) from None
        finally:
            if network is not None:
                network.gather = 0.0  # the connection goes back to the pool
            await response.close()

    async def _whole_reply(self, response: Any) -> AsyncIterator[StreamEvent]:
        """The events of a streamed reply, from a whole chat completion's JSON body."""
        try:
            data = json.loads(await response.aread())
        except ValueError:
            raise ClientError(f"{self.shown_url} answered with JSON that is not a chat "
                              "completion") from None
        whole = completion(data, self.shown_url)
        if whole.text:
            yield TextDelta(whole.text)
        yield Finished(whole.finish_reason)
        if whole.usage is not None:
            yield whole.usage

    async def complete(self, model: str, messages: list[dict[str, str]],
                       params: RequestParams | None = None, *,
                       on_retry: Callable[[Retrying], None] | None = None) -> str:
        """One whole reply (summaries, titles), with the same retries and errors."""
        return (await self.complete_full(model, messages, params, on_retry=on_retry)).text

    async def complete_full(self, model: str, messages: list[dict[str, str]],
                            params: RequestParams | None = None, *,
                            on_retry: Callable[[Retrying], None] | None = None) -> Completion:
        """Like complete, with why it stopped and the server's counts (None if not given)."""
        async with aclosing(self._attempts(model, messages, params, stream=False)) as attempts:
            async for item in attempts:
                if isinstance(item, Retrying):
                    if on_retry is not None:
                        on_retry(item)
                    continue
                return completion(item.value, self.shown_url)
        raise AssertionError("unreachable: _attempts returns or raises")

    async def _attempts(self, model: str, messages: list[dict[str, str]],
                        params: RequestParams | None, *,
                        stream: bool) -> AsyncIterator[Retrying | _Opened]:
        """Send until it is accepted, yielding a Retrying before each wait; then the result."""
        params = params or RequestParams()
        retries = 0
        fixed: set[str] = set()
        sdk = await self._client()
        while True:
            kwargs = self._refused.apply(
                model, request_kwargs(model, messages, params, stream=stream))
            try:
                # The SDK's own request (auth, base URL, timeout, status errors) without its
                # chat resource: importing that and checking its arguments was ~20 ms of every
                # `ask`, for a body that is plain JSON already.
                if stream:
                    # Body unread (non-2xx raised APIStatusError): the stream object only holds
                    # the response; stream_chat reads its bytes and closes it.
                    result = await sdk.post(CHAT_PATH, body=request_body(kwargs),
                                            cast_to=object, stream=True,
                                            stream_cls=openai.AsyncStream[object])
                else:
                    result = await sdk.post(CHAT_PATH, body=request_body(kwargs),
                                            cast_to=object)
            except openai.APIStatusError as exc:
                param = errors.unsupported_param(exc)
                if (param and param in kwargs and param not in fixed
                        and len(fixed) < MAX_PARAM_FIXES):
                    fixed.add(param)
                    self._refused.learn(model, param)
                    continue
                try:
                    delay, reason = await self._retry_or_raise(exc, model, retries)
                except ClientError as error:
                    raise self._scrubbed(error) from None
                retries += 1
                yield Retrying(retries, delay, reason)
                await asyncio.sleep(delay)
                continue
            except openai.APIError as exc:
                raise self._scrubbed(self._transport_error(exc)) from None
            yield _Opened(result)
            return

    def refused_params(self, model: str) -> set[str]:
        """Parameters learned to be refused for ``model`` by this server."""
        return self._refused.of(model)
