"""A recording HTTP proxy: what a client sent any server, and what came back.

The fake server logs its own requests, a real llama-server does not. Put this in front of
either (``RecordingProxy(upstream_root).start()``, point the client at ``proxy.base_url``) and
every exchange is kept: the request body, the status, and for chat completions what the
server said about the prompt (usage, finish_reason, the reply, an overflow error's counts).
Responses are read whole and passed on unchanged (status, body, content type, Retry-After),
so it suits measuring, not streaming-latency tests.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive",
                "accept-encoding", "content-encoding"}
_CONTEXT_ERROR = re.compile(r"exceed_context_size_error|context_length_exceeded|"
                            r"context length|context size|context window|too long|"
                            r"too large|exceeds the maximum|maximum prompt length|"
                            r"token limit|must be <=", re.I)
# OpenAI's wording: "your messages resulted in N tokens" / "(N in the messages, ...".
_OPENAI_COUNT = re.compile(r"resulted in (\d+) tokens|\((\d+) in the messages")


@dataclass
class Exchange:
    method: str
    path: str
    body: Any  # the request's JSON, or None
    status: int
    response: Any  # the JSON answer, or None for a stream / non-JSON body
    reply: str = ""  # a chat completion's text (streamed or whole)
    finish_reason: str | None = None
    prompt_tokens: int | None = None  # usage, or the count an overflow error gave
    completion_tokens: int | None = None
    refused: bool | None = None  # known to be refused as too long (else read from the body)
    truncated: int = 0  # prompt tokens the server dropped without a word (the fake's Ollama)

    @classmethod
    def from_fake(cls, recorded: Any) -> Exchange:
        """The same record out of the fake server's own log (a RecordedRequest)."""
        return cls(recorded.method, recorded.path, recorded.body, recorded.status or 0, None,
                   reply=recorded.reply or "", finish_reason=recorded.finish_reason,
                   prompt_tokens=recorded.prompt_tokens,
                   completion_tokens=recorded.completion_tokens,
                   refused=recorded.too_long or bool(recorded.truncated),
                   truncated=recorded.truncated)

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path.split("?")[0].endswith("/chat/completions")

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        return messages if isinstance(messages, list) else []

    @property
    def too_long(self) -> bool:
        """Refused for not fitting the window (llama.cpp's or OpenAI's error), or cut to fit
        it without a word (Ollama): an overflow either way."""
        if self.refused is not None:
            return self.refused
        return self.status in (400, 413, 422) and bool(
            _CONTEXT_ERROR.search(json.dumps(self.response) if self.response else ""))


def _read_chat(exchange: Exchange, raw: bytes, content_type: str) -> None:
    """Fill in what a chat completion answer says about the prompt and the reply."""
    if "text/event-stream" in content_type:
        parts: list[str] = []
        for line in raw.decode("utf-8", "replace").splitlines():
            data = line[5:].strip() if line.startswith("data:") else ""
            if not data or data == "[DONE]":
                continue
            try:
                chunk = json.loads(data)
            except ValueError:
                continue
            for choice in chunk.get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
                exchange.finish_reason = choice.get("finish_reason") or exchange.finish_reason
            _read_usage(exchange, chunk.get("usage"))
        exchange.reply = "".join(parts)
        return
    answer = exchange.response
    if not isinstance(answer, dict):
        return
    if exchange.status == 200:
        for choice in answer.get("choices") or []:
            exchange.reply = (choice.get("message") or {}).get("content") or ""
            exchange.finish_reason = choice.get("finish_reason")
        _read_usage(exchange, answer.get("usage"))
    elif isinstance(answer.get("error"), dict):
        error = answer["error"]
        if isinstance(error.get("n_prompt_tokens"), int):
            exchange.prompt_tokens = error["n_prompt_tokens"]
        else:
            match = _OPENAI_COUNT.search(str(error.get("message", "")))
            if match:
                exchange.prompt_tokens = int(match.group(1) or match.group(2))


def _read_usage(exchange: Exchange, usage: Any) -> None:
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        exchange.prompt_tokens = usage["prompt_tokens"]
        exchange.completion_tokens = usage.get("completion_tokens")


class RecordingProxy:
    """Forwards every request to ``upstream`` (a server root, no /v1) and records it."""

    def __init__(self, upstream: str, *, timeout: float = 600.0,
                 hide: tuple[str, ...] = ()) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the proxy forwards to http:// servers, not {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_prefix = parts.path.rstrip("/")
        self.timeout = timeout
        # Paths answered 404 instead of forwarded: a llama-server that plays a server with no
        # /tokenize, /apply-template or /props (Ollama, LM Studio, a hosted API).
        self.hide = tuple(hide)
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._httpd: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def start(self) -> RecordingProxy:
        handler = type("ProxyHandler", (_ProxyHandler,), {"proxy": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         name=f"recording-proxy:{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> RecordingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _add(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)


class _ProxyHandler(BaseHTTPRequestHandler):
    proxy: RecordingProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # see handler.py

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        proxy = self.proxy
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0] in proxy.hide:
            answer = json.dumps({"error": {"message": "Not Found", "type": "not_found"}}).encode()
            self._record(raw, 404, answer, "application/json")
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port,
                                              timeout=proxy.timeout)
        try:
            upstream.request(self.command, proxy.upstream_prefix + self.path, raw or None,
                             {**headers, "Accept-Encoding": "identity"})
            response = upstream.getresponse()
            answer = response.read()
            status, reply_headers = response.status, response.getheaders()
        except OSError as exc:
            status, reply_headers = 502, [("Content-Type", "application/json")]
            answer = json.dumps({"error": {"message": f"proxy: {exc}", "type": "proxy"}}).encode()
        finally:
            upstream.close()
        content_type = dict((k.lower(), v) for k, v in reply_headers).get("content-type", "")
        self._record(raw, status, answer, content_type)
        self.send_response(status)
        for name, value in reply_headers:
            if name.lower() not in _HOP_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _record(self, raw: bytes, status: int, answer: bytes, content_type: str) -> None:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        response: Any = None
        if "json" in content_type:
            try:
                response = json.loads(answer)
            except ValueError:
                response = None
        exchange = Exchange(self.command, self.path, body, status, response)
        if exchange.is_chat:
            _read_chat(exchange, answer, content_type)
        self.proxy._add(exchange)
