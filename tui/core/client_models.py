"""What the model client asks a server besides chat: its models, a model's context window, and
the extras some servers serve beside /v1 (llama.cpp's /props, /tokenize).

Only the model list is required of a server; every other probe is optional and means
"unknown" when it fails. A part of :class:`tui.core.client.ChatClient`, which inherits it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from tui.core import client_errors as errors
from tui.core.client_errors import ClientError
from tui.core.client_records import ModelInfo
from tui.core.hosts import is_openai_host
from tui.core.ollama import RuntimeWindow, is_ps_answer, modelfile_window, running_window

if TYPE_CHECKING:  # only annotations: the client imports the SDK when first used
    import openai

log = logging.getLogger(__name__)


class ModelQueries:
    """The model list and window probes of :class:`tui.core.client.ChatClient`."""

    # Set by ChatClient.__init__.
    base_url: str
    endpoint_url: str
    shown_url: str
    _key_withheld: bool

    if TYPE_CHECKING:
        async def _client(self) -> openai.AsyncOpenAI: ...
        def _scrubbed(self, error: ClientError) -> ClientError: ...
        def _transport_error(self, exc: openai.APIError) -> ClientError: ...

    async def list_models(self) -> list[ModelInfo]:
        sdk = await self._client()
        import openai  # imported by _client (client.import_sdk): a look-up now

        try:
            # Plain JSON through the SDK's request, not its models resource (and a pydantic
            # page of models): a few ms less at every `ask`, and extra fields kept as sent.
            page = await sdk.get("/models", cast_to=object)
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise self._scrubbed(errors.auth_error(exc, key_withheld=self._key_withheld)
                                     ) from None
            raise self._scrubbed(errors.status_error(exc, self.shown_url)) from None
        except openai.APIError as exc:
            raise self._scrubbed(self._transport_error(exc)) from None
        entries = page.get("data") if isinstance(page, dict) else page  # some send the list
        if not isinstance(entries, list):
            raise self._scrubbed(ClientError(f"{self.shown_url} did not answer with a model list"))
        return [ModelInfo(id=entry["id"],
                          context_window=listed_window(entry),
                          owned_by=_text(entry.get("owned_by")))
                for entry in entries
                if isinstance(entry, dict) and isinstance(entry.get("id"), str)]

    async def _model_ids(self) -> list[str] | None:
        """Model ids for suggestions; None when they cannot be listed."""
        try:
            return [m.id for m in await self.list_models()]
        except ClientError:
            log.info("cannot list the models for a suggestion", exc_info=True)
            return None

    async def server_context_window(self, model: str) -> int | None:
        """What the server says its window is: in its model list (listed_window), else
        llama.cpp's n_ctx at /props."""
        try:
            models = await self.list_models()
        except ClientError:
            log.debug("no model list to read the window from", exc_info=True)
            models = []
        for info in models:
            if info.id == model and info.context_window:
                return info.context_window
        props = await self.get_root("/props")  # any failure means "unknown"
        if not isinstance(props, dict):
            return None
        settings = props.get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return _positive_int(n_ctx) or _positive_int(props.get("n_ctx"))

    async def lmstudio_window(self, model: str) -> RuntimeWindow | None:
        """The context length LM Studio loaded ``model`` with (``GET /api/v0/models``: its
        ``loaded_context_length``; a model not loaded has none yet, its first request loads
        it with LM Studio's default); None when the server is not LM Studio."""
        listing = await self.get_root("/api/v0/models")
        entries = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(entries, list) or not any(
                isinstance(e, dict) and "max_context_length" in e for e in entries):
            return None
        for entry in entries:
            if isinstance(entry, dict) and entry.get("id") == model:
                loaded = entry.get("state") == "loaded"
                size = _positive_int(entry.get("loaded_context_length")) if loaded else None
                return RuntimeWindow(size, loaded=loaded)
        return RuntimeWindow(None, loaded=False)

    async def ollama_window(self, model: str, *, load: bool = False) -> RuntimeWindow | None:
        """The window an Ollama server runs ``model`` with (see tui.core.ollama); None when
        the server is not Ollama. ``load``: a model not loaded is loaded first (a send is
        about to load it anyway), then asked again."""
        running = await self.get_root("/api/ps")
        if not is_ps_answer(running):
            return None
        found = running_window(running, model)
        if not found.loaded and load:
            if await self.post_root("/api/generate", {"model": model, "stream": False}):
                found = running_window(await self.get_root("/api/ps"), model)
        if found.size:
            return found
        # Not loaded (or an Ollama too old to say): only a Modelfile's num_ctx is certain.
        show = await self.post_root("/api/show", {"model": model})
        return RuntimeWindow(modelfile_window(show), loaded=found.loaded)

    async def get_root(self, path: str) -> Any:
        """GET ``path`` at the server root; the decoded JSON, or None on any failure."""
        if is_openai_host(self.base_url):
            return None
        try:
            sdk = await self._client()
            return await sdk.get(self._root_url() + path, cast_to=object)
        except Exception:  # unsupported, refused or unreachable: the caller falls back
            log.debug("GET %s failed", path, exc_info=True)
            return None

    async def post_root(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` to ``path`` at the server root (llama.cpp / vLLM extras such as
        /tokenize); the decoded JSON, or None on any failure (an optional feature)."""
        if is_openai_host(self.base_url):
            return None
        try:
            sdk = await self._client()
            return await sdk.post(self._root_url() + path, body=body, cast_to=object)
        except Exception:  # unsupported, refused or unreachable: the caller falls back
            return None

    def _root_url(self) -> str:
        """The server root (llama.cpp serves /props there, beside /v1)."""
        return re.sub(r"/v1$", "", self.endpoint_url)


# Where servers list a model's window in /v1/models: vLLM and SGLang, OpenRouter and
# Together, Groq, Mistral. LM Studio's trained maximum is only in its own /api/v0 listing.
_WINDOW_FIELDS = ("max_model_len", "context_length", "context_window", "max_context_length")


def listed_window(entry: dict[str, Any]) -> int | None:
    """A model list entry's window, if the server lists one (llama.cpp's under ``meta``:
    ``n_ctx``, what it runs with, not ``n_ctx_train``)."""
    for name in _WINDOW_FIELDS:
        if size := _positive_int(entry.get(name)):
            return size
    meta = entry.get("meta")
    return _positive_int(meta.get("n_ctx")) if isinstance(meta, dict) else None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
