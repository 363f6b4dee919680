"""A real OpenAI-compatible HTTP server for tests and hand-testing, in a background thread.

Tests talk to it through the real SDK over real sockets, so streaming, chunked encoding,
error bodies, connection cuts and client disconnects behave as they do against a real server.
A thread (not an event loop) serves it so sync tests, async tests, Textual pilots and
subprocesses can all use the same instance. Every request is recorded, and waits happen on
conditions/events so tests never sleep.
"""

from __future__ import annotations

import itertools
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_openai import ollama
from tests.fake_openai.flavors import DEFAULT_N_CTX, FLAVORS, OVERFLOW_ERRORS
from tests.fake_openai.replies import echo_reply
from tests.fake_openai.scripts import Script
from tests.fake_openai.summaries import SUMMARY_MODES, is_summary_request, summary_reply
from tests.fake_openai.tokens import Tokenizer, get_tokenizer

DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "o3-mini", "gpt-5-mini"]

Responder = Callable[[dict[str, Any]], "Script | None"]


@dataclass
class RecordedRequest:
    """One request as the server saw it; chat requests also get what the server made of them.

    The outcome fields are filled in while the request is answered (read them after the
    client got its answer): ``prompt_tokens`` is the server's own count of the prompt,
    ``too_long`` says it was refused for not fitting the window, ``summary`` that the server
    took it for a summary request.
    """

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, or None
    status: int | None = None
    prompt_tokens: int | None = None
    too_long: bool = False
    truncated: int = 0  # tokens the server dropped from the prompt without a word (Ollama)
    summary: bool = False
    completion_tokens: int | None = None
    finish_reason: str | None = None
    reply: str | None = None  # the text answered (all of it, even if the client left early)

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        return messages if isinstance(messages, list) else []

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path.split("?")[0].endswith("/chat/completions")


class FakeOpenAI:
    """The server. Attributes may be changed while it runs; each request reads them afresh.

    Per-request behaviour comes from, in order: ``responder(body)`` if it returns a Script,
    the queue filled by ``script(...)``, then the defaults (``reply`` text at ``tps``).
    Server-wide rules (API key, known models, unsupported params, context window) are checked
    before a script is consumed. Summary requests take the next of ``summary_replies`` (see
    summaries.py) before the queue when it is set.

    How awkward it is: ``tokenizer`` "tiktoken" (OpenAI's count, the default) or "foreign"
    (a llama.cpp-like model's count and ChatML template, foreign.py), used for the window,
    usage and /tokenize alike; ``flavor`` "openai" (default), "llamacpp" (root /tokenize,
    /apply-template, /props, /health; refuses a prompt of n_ctx tokens or more whatever
    max_tokens says; generates to the end of the window) or "vllm" (/tokenize with count and
    max_model_len; max_model_len in /v1/models); ``overflow_error`` "openai"
    (context_length_exceeded) or "llamacpp" (exceed_context_size_error with n_prompt_tokens
    and n_ctx), one of hosted.HOSTED_OVERFLOWS, or by default the flavor's own. ``cached_tokens`` is what its usage reports as
    served from the prompt cache; with ``sends_usage`` False it never reports usage (in a
    stream or a whole reply), like servers that ignore ``stream_options``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tps: float | None = None, *,
                 models: list[str] | None = None, known_models: list[str] | None = None,
                 context_window: int | None = None,
                 max_model_len: dict[str, int] | None = None, props_n_ctx: int | None = None,
                 require_api_key: str | None = None,
                 unsupported_params: set[str] | None = None,
                 reply: str | Callable[[list[dict[str, Any]]], str] | None = None,
                 responder: Responder | None = None, tokenizer: str = "tiktoken",
                 flavor: str = "openai", overflow_error: str | None = None,
                 summary_replies: str | Sequence[str] | None = None,
                 cached_tokens: int = 0, sends_usage: bool = True,
                 window_field: str | None = None) -> None:
        self.host = host
        self.port = port
        self.tps = tps
        self.models: list[str] = list(models or DEFAULT_MODELS)
        # When set, only these models exist (listed and served); others answer 404.
        self.known_models: set[str] | None = set(known_models) if known_models else None
        self.context_window = context_window
        self.max_model_len: dict[str, int] = dict(max_model_len or {})
        # The /v1/models field a hosted API lists the window under ("context_length":
        # OpenRouter, Together; "context_window": Groq; "max_context_length": Mistral).
        self.window_field = window_field
        self.props_n_ctx = props_n_ctx
        self.require_api_key = require_api_key
        self.unsupported_params: set[str] = set(unsupported_params or ())
        self.reply = reply
        self.responder = responder
        self.tokenizer: Tokenizer = get_tokenizer(tokenizer)
        if flavor not in FLAVORS:
            raise ValueError(f"unknown flavor {flavor!r} (known: {', '.join(FLAVORS)})")
        self.flavor = flavor
        if overflow_error is not None and overflow_error not in OVERFLOW_ERRORS:
            raise ValueError(f"unknown overflow error {overflow_error!r} "
                             f"(known: {', '.join(OVERFLOW_ERRORS)})")
        self.overflow_error = overflow_error or ("llamacpp" if flavor == "llamacpp" else "openai")
        self.summary_replies: list[str] = _modes(summary_replies)
        # Usage: how many prompt tokens it says came from its cache, and whether it reports
        # usage at all (many local servers ignore stream_options.include_usage).
        self.cached_tokens = cached_tokens
        self.sends_usage = sends_usage
        self._summary_turn = 0
        # Ollama: the models loaded (name -> the window each runs with), and the num_ctx
        # their Modelfile sets (None: the server's default, the window).
        self.loaded_models: dict[str, int] = {}
        self.ollama_modelfile_num_ctx: int | None = None

        self.client_disconnected = threading.Event()
        self.holding = threading.Event()
        self.disconnects = 0
        self._cond = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._scripts: deque[Script] = deque()
        self._release = threading.Event()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        from tests.fake_openai.handler import Handler

        handler = type("Handler", (Handler,), {"fake": self})
        httpd = _Server((self.host, self.port), handler)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        # The socket listens from construction on, so requests queue even before the loop runs.
        self._thread = threading.Thread(target=httpd.serve_forever,
                                        kwargs={"poll_interval": 0.01},
                                        name=f"fake-openai:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- scripting -------------------------------------------------------------------------

    def script(self, *scripts: Script) -> None:
        """Queue answers, consumed one per chat request."""
        with self._cond:
            self._scripts.extend(scripts)

    def pending_scripts(self) -> int:
        with self._cond:
            return len(self._scripts)

    def release(self) -> None:
        """Let a stream stalled by ``hold_after`` go on."""
        self._release.set()

    # --- inspection ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat completion requests, oldest first."""
        return [r.body for r in self.requests if r.is_chat]

    def chat_log(self) -> list[RecordedRequest]:
        """The chat completion requests with what the server made of them, oldest first."""
        return [r for r in self.requests if r.is_chat]

    @property
    def window(self) -> int | None:
        """The window enforced: llama.cpp and Ollama always have one (n_ctx, num_ctx)."""
        if self.flavor == "llamacpp":
            return self.context_window or self.props_n_ctx or DEFAULT_N_CTX
        if self.flavor == "ollama":
            return (self.ollama_modelfile_num_ctx or self.context_window
                    or ollama.DEFAULT_NUM_CTX)
        return self.context_window

    @property
    def n_ctx(self) -> int:
        """The window llama.cpp's /props reports: props_n_ctx, else the enforced window."""
        return self.props_n_ctx or self.context_window or DEFAULT_N_CTX

    def count_prompt(self, messages: list[dict[str, Any]]) -> int:
        """The server's own count of a chat request's prompt."""
        return self.tokenizer.count_messages(messages)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least ``n`` requests arrived; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._requests) >= n, timeout)

    # --- internals used by the handler -----------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    def _next_script(self, body: dict[str, Any], summary: bool = False,
                     limit: int | None = None) -> Script:
        if self.responder is not None:
            scripted = self.responder(body)
            if scripted is not None:
                return scripted
        with self._cond:
            if summary and self.summary_replies:
                mode = self.summary_replies[self._summary_turn % len(self.summary_replies)]
                self._summary_turn += 1
                text, finish = summary_reply(mode, body["messages"], limit=limit,
                                             count=self.tokenizer.count_text)
                return Script(text=text, finish_reason=finish)
            return self._scripts.popleft() if self._scripts else Script()

    def _is_summary(self, body: dict[str, Any]) -> bool:
        return is_summary_request(body)

    def _default_text(self, messages: list[dict[str, Any]]) -> str:
        if self.reply is None:
            return echo_reply(messages)
        if callable(self.reply):
            return self.reply(messages)
        return self.reply

    def _next_id(self) -> str:
        return f"chatcmpl-fake{next(self._ids):06d}"


def _modes(value: str | Sequence[str] | None) -> list[str]:
    modes = [value] if isinstance(value, str) else list(value or ())
    for mode in modes:
        if mode not in SUMMARY_MODES:
            raise ValueError(f"unknown summary reply {mode!r} (known: {', '.join(SUMMARY_MODES)})")
    return modes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # a client that went away is business as usual here
            return
        super().handle_error(request, client_address)
