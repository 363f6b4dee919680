"""A real OpenAI-compatible HTTP server for tests and hand-testing, in a background thread.

Tests talk to it through the real SDK over real sockets, so streaming, chunked encoding,
error bodies, connection cuts and client disconnects behave as they do against a real server.
A thread (not an event loop) serves it so sync tests, async tests, Textual pilots and
subprocesses can all use the same instance. Every request is recorded, and waits happen on
conditions/events so tests never sleep.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_openai.replies import echo_reply
from tests.fake_openai.scripts import (
    Script,
    context_length_message,
    error_body,
    unsupported_param_body,
)
from tests.fake_openai.tokens import count_messages, split_tokens
from tests.fake_openai.wire import CREATED, Reply

DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "o3-mini", "gpt-5-mini"]

Responder = Callable[[dict[str, Any]], "Script | None"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, or None


class FakeOpenAI:
    """The server. Attributes may be changed while it runs; each request reads them afresh.

    Per-request behaviour comes from, in order: ``responder(body)`` if it returns a Script,
    the queue filled by ``script(...)``, then the defaults (``reply`` text at ``tps``).
    Server-wide rules (API key, known models, unsupported params, context window) are checked
    before a script is consumed.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tps: float | None = None, *,
                 models: list[str] | None = None, known_models: list[str] | None = None,
                 context_window: int | None = None,
                 max_model_len: dict[str, int] | None = None, props_n_ctx: int | None = None,
                 require_api_key: str | None = None,
                 unsupported_params: set[str] | None = None,
                 reply: str | Callable[[list[dict[str, Any]]], str] | None = None,
                 responder: Responder | None = None) -> None:
        self.host = host
        self.port = port
        self.tps = tps
        self.models: list[str] = list(models or DEFAULT_MODELS)
        # When set, only these models exist (listed and served); others answer 404.
        self.known_models: set[str] | None = set(known_models) if known_models else None
        self.context_window = context_window
        self.max_model_len: dict[str, int] = dict(max_model_len or {})
        self.props_n_ctx = props_n_ctx
        self.require_api_key = require_api_key
        self.unsupported_params: set[str] = set(unsupported_params or ())
        self.reply = reply
        self.responder = responder

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
        handler = type("Handler", (_Handler,), {"fake": self})
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
        return [r.body for r in self.requests
                if r.method == "POST" and r.path.endswith("/chat/completions")]

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least ``n`` requests arrived; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._requests) >= n, timeout)

    # --- internals used by the handler -----------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    def _next_script(self, body: dict[str, Any]) -> Script:
        if self.responder is not None:
            scripted = self.responder(body)
            if scripted is not None:
                return scripted
        with self._cond:
            return self._scripts.popleft() if self._scripts else Script()

    def _default_text(self, messages: list[dict[str, Any]]) -> str:
        if self.reply is None:
            return echo_reply(messages)
        if callable(self.reply):
            return self.reply(messages)
        return self.reply

    def _next_id(self) -> str:
        return f"chatcmpl-fake{next(self._ids):06d}"


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


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        with self.fake._cond:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._cond:
            self.fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    # --- routing ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(None)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.startswith("/v1/") and not self._authorized():
            return
        if path == "/v1/models":
            self._send_json(200, {"object": "list",
                                  "data": [self._model_entry(m) for m in self._listed_models()]})
        elif path.startswith("/v1/models/"):
            model = path[len("/v1/models/"):]
            if model in self._listed_models():
                self._send_json(200, self._model_entry(model))
            else:
                self._send_script(Script.model_not_found(model))
        elif path == "/props" and self.fake.props_n_ctx is not None:
            self._send_json(200, {"default_generation_settings": {"n_ctx": self.fake.props_n_ctx},
                                  "total_slots": 1})
        else:
            self._not_found()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._record(None)
            self._send_json(400, error_body("We could not parse the JSON body of your request.",
                                            "invalid_request_error"))
            return
        self._record(body)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path != "/v1/chat/completions":
            self._not_found()
            return
        if not self._authorized():
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_json(400, error_body("'messages' is a required property",
                                            "invalid_request_error", "messages"))
            return
        self._chat(body)

    # --- chat ------------------------------------------------------------------------------

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.fake
        model = str(body.get("model", ""))
        if fake.known_models is not None and model not in fake.known_models:
            self._send_script(Script.model_not_found(model))
            return
        for param in sorted(fake.unsupported_params):
            if param in body:
                self._send_json(400, unsupported_param_body(param, body[param]))
                return
        prompt = count_messages(body["messages"])
        max_out = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        window = fake.context_window
        if window is not None and prompt + max_out > window:
            self._send_json(400, error_body(context_length_message(window, prompt, max_out),
                                            "invalid_request_error", "messages",
                                            "context_length_exceeded"))
            return

        script = fake._next_script(body)
        if script.first_byte_delay and not self._pause(script.first_byte_delay):
            return
        if script.status != 200:
            self._send_script(script)
            return

        text = script.text if script.text is not None else fake._default_text(body["messages"])
        pieces = split_tokens(text)
        finish = script.finish_reason
        limit = max_out or None
        if window is not None:
            room = max(window - prompt, 0)
            limit = room if limit is None else min(limit, room)
        if limit is not None and len(pieces) > limit:
            pieces = pieces[:limit]
            finish = finish or "length"
        reply = Reply(id=fake._next_id(), model=model, pieces=pieces,
                       finish=finish or "stop", prompt_tokens=prompt)
        if body.get("stream"):
            options = body.get("stream_options") or {}
            self._stream(reply, script, bool(options.get("include_usage")))
        else:
            self._send_json(200, reply.completion())

    def _stream(self, reply: Reply, script: Script, include_usage: bool) -> None:
        fake = self.fake
        tps = script.tps if script.tps is not None else fake.tps
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", f"req_{reply.id}")
        self.end_headers()
        if not self._event(reply.chunk({"role": "assistant", "content": ""}, None, include_usage)):
            return
        start = time.monotonic()
        for i, piece in enumerate(reply.pieces):
            if script.cut_after is not None and i >= script.cut_after:
                self._cut()
                return
            if script.hold_after is not None and i == script.hold_after and not self._hold():
                return
            if tps and not self._pause(start + (i + 1) / tps - time.monotonic()):
                return
            if not self._event(reply.chunk({"content": piece}, None, include_usage)):
                return
        if script.cut_after is not None:
            self._cut()
            return
        if not self._event(reply.chunk({}, reply.finish, include_usage)):
            return
        if include_usage and not self._event(reply.usage_chunk()):
            return
        if self._event("[DONE]"):
            self._write(b"0\r\n\r\n")

    # --- writing ---------------------------------------------------------------------------

    def _event(self, payload: dict[str, Any] | str) -> bool:
        data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        raw = f"data: {data}\n\n".encode()
        return self._write(b"%X\r\n%s\r\n" % (len(raw), raw))

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:
            self._client_gone()
            return False

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
        except OSError:
            self._client_gone()

    def _send_script(self, script: Script) -> None:
        self._send_json(script.status, script.error or error_body("error", "server_error"),
                        script.headers)

    def _not_found(self) -> None:
        self._send_json(404, error_body(f"Invalid URL ({self.command} {self.path})",
                                        "invalid_request_error"))

    def _authorized(self) -> bool:
        key = self.fake.require_api_key
        if key is None or self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._send_script(Script.invalid_api_key())
        return False

    def _cut(self) -> None:
        """Drop the connection mid-body: no final chunk, no [DONE], no chunked terminator."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- waiting while watching the client -------------------------------------------------

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False as soon as the client hangs up or the server stops."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if not self._watch(min(remaining, 0.05)):
                return False

    def _hold(self) -> bool:
        fake = self.fake
        fake.holding.set()
        while not fake._release.is_set():
            if not self._watch(0.05):
                return False
        fake._release.clear()
        return True

    def _watch(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the socket to report EOF; False when it did or on stop."""
        if self.fake._stopping.is_set():
            self.close_connection = True
            return False
        try:
            readable, _, _ = select.select([self.connection], [], [], timeout)
            if not readable:
                return True
            data = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            data = b""
        if data:  # bytes of a next request: not a hang-up, wait the time out plainly
            self.fake._stopping.wait(timeout)
            return True
        self._client_gone()
        return False

    def _client_gone(self) -> None:
        self.close_connection = True
        fake = self.fake
        with fake._cond:
            fake.disconnects += 1
        fake.client_disconnected.set()

    # --- helpers ---------------------------------------------------------------------------

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake._record(RecordedRequest(self.command, self.path, headers, body))

    def _listed_models(self) -> list[str]:
        fake = self.fake
        return sorted(fake.known_models) if fake.known_models is not None else list(fake.models)

    def _model_entry(self, model: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": model, "object": "model", "created": CREATED,
                                 "owned_by": "fake-openai"}
        if model in self.fake.max_model_len:
            entry["max_model_len"] = self.fake.max_model_len[model]
        return entry

