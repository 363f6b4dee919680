"""The fake server's Ollama routes (its ``ollama`` flavor): /, /api/version, /api/ps,
/api/tags, /api/show and /api/generate (loading a model, no generation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fake_openai import ollama

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI


class OllamaRoutes:
    """Mixed into the request handler, whose helpers it uses."""

    fake: FakeOpenAI
    if TYPE_CHECKING:
        wfile: Any
        def send_response(self, code: int, message: str | None = None) -> None: ...
        def send_header(self, keyword: str, value: str) -> None: ...
        def end_headers(self) -> None: ...
        def _send_json(self, status: int, payload: Any,
                       headers: dict[str, str] | None = None) -> None: ...
        def _listed_models(self) -> list[str]: ...

    def _ollama_get(self, path: str) -> None:
        fake = self.fake
        if path == "":
            raw = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        elif path == "/api/version":
            self._send_json(200, {"version": ollama.VERSION})
        elif path == "/api/ps":
            with fake._cond:
                loaded = dict(fake.loaded_models)
            self._send_json(200, ollama.ps_body(loaded))
        else:
            self._send_json(200, {"models": [{"name": m, "model": m}
                                             for m in self._listed_models()]})

    def _ollama_post(self, path: str, body: Any) -> None:
        """/api/show and /api/generate (with no prompt: load the model)."""
        fake = self.fake
        name = body.get("model") or body.get("name") if isinstance(body, dict) else None
        model = ollama.resolve(str(name or ""), self._listed_models())
        if model is None:
            self._send_json(404, ollama.not_found_body(str(name)))
        elif path == "/api/show":
            self._send_json(200, ollama.show_body(model, fake.ollama_modelfile_num_ctx))
        elif body.get("prompt"):
            self._send_json(400, {"error": "this fake only loads models on /api/generate"})
        else:
            self._ollama_load(model)
            self._send_json(200, ollama.load_body(model))

    def _ollama_load(self, model: str) -> None:
        """The model is loaded (Ollama, LM Studio), with the window it runs with."""
        fake = self.fake
        with fake._cond:
            fake.loaded_models[model] = fake.window or ollama.DEFAULT_NUM_CTX
