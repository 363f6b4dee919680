"""The HTTP side of the fake server: routing, the chat endpoint, streaming, hang-ups."""

from __future__ import annotations

import json
import select
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from tests.fake_openai import flavors, hosted, lmstudio, ollama
from tests.fake_openai.hosted import HOSTED_OVERFLOWS
from tests.fake_openai.ollama_routes import OllamaRoutes
from tests.fake_openai.scripts import (
    Script,
    context_length_message,
    error_body,
    unsupported_param_body,
)
from tests.fake_openai.wire import CREATED, Reply

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI, RecordedRequest


class Handler(OllamaRoutes, BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1.0"
    recorded: RecordedRequest | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every small answer back for ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
        fake = self.fake
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.startswith("/v1/") and not self._authorized():
            return
        if path == "/v1/models":
            listing: dict[str, Any] = {"object": "list", "data": [
                self._model_entry(m) for m in self._listed_models()]}
            if fake.flavor == "llamacpp":  # llama.cpp answers Ollama's shape beside OpenAI's
                listing = {"models": [{"name": m, "model": m, "type": "model"}
                                      for m in self._listed_models()], **listing}
            self._send_json(200, listing)
        elif path.startswith("/v1/models/"):
            model = path[len("/v1/models/"):]
            if model in self._listed_models():
                self._send_json(200, self._model_entry(model))
            else:
                self._send_script(Script.model_not_found(model))
        elif path == "/props" and fake.flavor == "llamacpp":
            self._send_json(200, flavors.props_body(fake.n_ctx, self._listed_models()[0]))
        elif path == "/props" and fake.props_n_ctx is not None:
            self._send_json(200, {"default_generation_settings": {"n_ctx": fake.props_n_ctx},
                                  "total_slots": 1})
        elif path in ("/health", "/v1/health") and fake.flavor == "llamacpp":
            self._send_json(200, {"status": "ok"})
        elif fake.flavor == "ollama" and path in ("", "/api/version", "/api/ps", "/api/tags"):
            self._ollama_get(path)
        elif fake.flavor == "lmstudio" and path == "/api/v0/models":
            with fake._cond:
                loaded = dict(fake.loaded_models)
            self._send_json(200, lmstudio.models_body(self._listed_models(), loaded))
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
        if self.fake.flavor == "ollama" and path in ("/api/show", "/api/generate"):
            self._ollama_post(path, body)
            return
        if path in ("/tokenize", "/apply-template") and self.fake.flavor in ("llamacpp", "vllm"):
            self._tokenizer_endpoint(path, body)
            return
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

    def _tokenizer_endpoint(self, path: str, body: Any) -> None:
        """llama.cpp's /tokenize and /apply-template, or vLLM's /tokenize."""
        fake = self.fake
        if not isinstance(body, dict):
            self._send_json(400, flavors.llamacpp_error("request body must be a JSON object"))
        elif fake.flavor == "vllm" and path == "/tokenize":
            self._send_json(200, flavors.tokenize_vllm(body, fake.tokenizer,
                                                       fake.window or flavors.DEFAULT_N_CTX))
        elif fake.flavor == "llamacpp" and path == "/tokenize":
            self._send_json(200, flavors.tokenize_llamacpp(body, fake.tokenizer))
        elif fake.flavor == "llamacpp" and isinstance(body.get("messages"), list):
            self._send_json(200, flavors.apply_template(body))
        elif fake.flavor == "llamacpp":
            self._send_json(400, flavors.llamacpp_error("'messages' is required"))
        else:
            self._not_found()

    # --- chat ------------------------------------------------------------------------------

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.fake
        recorded = self.recorded
        model = str(body.get("model", ""))
        if fake.flavor == "ollama":
            served = ollama.resolve(model, self._listed_models())
            if served is None:
                self._send_script(Script.model_not_found(model))
                return
            self._ollama_load(served)
        elif fake.known_models is not None and model not in fake.known_models:
            self._send_script(Script.model_not_found(model))
            return
        elif fake.flavor == "lmstudio":
            self._ollama_load(model)  # LM Studio loads a model at its first request too
        for param in sorted(fake.unsupported_params):
            if param in body:
                self._send_json(400, unsupported_param_body(param, body[param]))
                return
        prompt = fake.count_prompt(body["messages"])
        summary = fake._is_summary(body)
        if recorded is not None:
            recorded.prompt_tokens, recorded.summary = prompt, summary
        max_out = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        window = fake.window
        if fake.flavor == "ollama" and window is not None:  # cut to fit, silently
            prompt, lost = ollama.fit_prompt(body["messages"], window, fake.count_prompt)
            if recorded is not None:
                recorded.prompt_tokens, recorded.truncated = prompt, lost
        elif window is not None and self._too_long(prompt, max_out, window):
            if recorded is not None:
                recorded.too_long = True
            if fake.overflow_error in HOSTED_OVERFLOWS:
                self._send_json(*hosted.overflow_response(fake.overflow_error, prompt,
                                                          max_out, window))
            else:
                self._send_json(400, self._overflow_body(prompt, max_out, window))
            return

        limit = max_out or None
        if window is not None:
            room = max(window - prompt, 0)
            limit = room if limit is None else min(limit, room)
        script = fake._next_script(body, summary, limit)
        if script.first_byte_delay and not self._pause(script.first_byte_delay):
            return
        if script.status != 200:
            self._send_script(script)
            return

        text = script.text if script.text is not None else fake._default_text(body["messages"])
        pieces = fake.tokenizer.pieces(text)
        finish = script.finish_reason
        if limit is not None and len(pieces) > limit:
            pieces = pieces[:limit]
            finish = finish or "length"
        reply = Reply(id=fake._next_id(), model=model, pieces=pieces,
                      finish=finish or "stop", prompt_tokens=prompt,
                      cached_tokens=fake.cached_tokens)
        if recorded is not None:
            recorded.completion_tokens, recorded.finish_reason = len(pieces), reply.finish
            recorded.reply = "".join(pieces)
        if body.get("stream") and script.body != "json":
            options = body.get("stream_options") or {}
            self._stream(reply, script,
                         bool(options.get("include_usage")) and fake.sends_usage)
        else:
            completion = reply.completion()
            if not fake.sends_usage:
                completion.pop("usage")
            self._send_json(200, completion)

    def _too_long(self, prompt: int, max_out: int, window: int) -> bool:
        """llama.cpp refuses a prompt that fills the window; OpenAI counts max_tokens too."""
        if self.fake.flavor in ("llamacpp", "lmstudio"):
            return prompt >= window
        return prompt + max_out > window

    def _overflow_body(self, prompt: int, max_out: int, window: int) -> dict[str, Any]:
        if self.fake.overflow_error == "llamacpp":
            return flavors.exceed_context_body(prompt, window)
        if self.fake.overflow_error == "lmstudio":
            return lmstudio.overflow_body(prompt, window)
        return error_body(context_length_message(window, prompt, max_out),
                          "invalid_request_error", "messages", "context_length_exceeded")

    def _stream(self, reply: Reply, script: Script, include_usage: bool) -> None:
        fake = self.fake
        tps = script.tps if script.tps is not None else fake.tps
        if self.recorded is not None:
            self.recorded.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self._chunked = script.body != "close"
        if self._chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
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
        if self._event("[DONE]") and self._chunked:
            self._write(b"0\r\n\r\n")

    # --- writing ---------------------------------------------------------------------------

    def _event(self, payload: dict[str, Any] | str) -> bool:
        data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        raw = f"data: {data}\n\n".encode()
        if not getattr(self, "_chunked", True):
            return self._write(raw)
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
        if self.recorded is not None:
            self.recorded.status = status
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
        body = script.error or error_body("error", "server_error")
        if script.echo_auth:
            error = dict(body.get("error") or {})
            error["message"] = (f"{error.get('message', '')} (you sent "
                                f"Authorization: {self.headers.get('Authorization')})")
            body = {**body, "error": error}
        self._send_json(script.status, body, script.headers)

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
        from tests.fake_openai.server import RecordedRequest

        headers = {k.lower(): v for k, v in self.headers.items()}
        self.recorded = RecordedRequest(self.command, self.path, headers, body)
        self.fake._record(self.recorded)

    def _listed_models(self) -> list[str]:
        fake = self.fake
        return sorted(fake.known_models) if fake.known_models is not None else list(fake.models)

    def _model_entry(self, model: str) -> dict[str, Any]:
        fake = self.fake
        if fake.flavor == "llamacpp":
            return flavors.llamacpp_model_entry(model, fake.n_ctx)
        if fake.flavor == "ollama":
            return ollama.model_entry(model, CREATED)
        entry: dict[str, Any] = {"id": model, "object": "model", "created": CREATED,
                                 "owned_by": "fake-openai"}
        if model in fake.max_model_len:
            entry["max_model_len"] = fake.max_model_len[model]
        elif fake.flavor == "vllm" and fake.window is not None:
            entry["max_model_len"] = fake.window
        elif fake.window_field and fake.window is not None:
            entry[fake.window_field] = fake.window
        return entry

