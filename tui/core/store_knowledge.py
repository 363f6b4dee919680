"""What servers taught us, read and written through the Store: each model's context window
per server, cached token counts per tokenizer, and the token-count calibration.

The SQL lives in :mod:`tui.core.store_server`; this class wraps it with the store's lock and
write transactions.
"""

from __future__ import annotations

from tui.core import store_server
from tui.core.store_base import StoreBase, _guarded, _reading
from tui.core.store_server import StoredWindow


class KnowledgeStore(StoreBase):
    """The Store's learned limits (see the module docstring)."""

    @_guarded
    def set_model_window(self, model: str, context_window: int, *, source: str,
                         base_url: str | None = None, refused: int | None = None) -> None:
        """Remember a model's window on one server (sanitized base URL); no URL: any server.
        ``refused``: the smallest prompt it refused without numbers (None: keep the stored)."""
        with self._write() as conn:
            store_server.set_window(conn, base_url or "", model, context_window, source,
                                    refused)

    @_guarded
    def note_refused_size(self, model: str, tokens: int, base_url: str | None = None) -> None:
        """A prompt of ``tokens`` refused without numbers, kept with the model's window."""
        with self._write() as conn:
            store_server.set_refused(conn, base_url or "", model, tokens)

    @_reading
    def model_window(self, model: str, base_url: str | None = None) -> StoredWindow | None:
        """The window learned for ``model`` on ``base_url`` (else one from before v4)."""
        return store_server.get_window(self.conn, base_url, model)

    def get_model_window(self, model: str, base_url: str | None = None) -> int | None:
        stored = self.model_window(model, base_url)
        return None if stored is None else stored.context_window

    @_reading
    def list_model_windows(self) -> list[StoredWindow]:
        return store_server.list_windows(self.conn)

    @_guarded
    def forget_model_window(self, model: str, base_url: str | None = None) -> int:
        with self._write() as conn:
            return store_server.forget_window(conn, model, base_url)

    @_reading
    def cached_token_counts(self, tokenizer: str, digests: list[str]) -> dict[str, int]:
        return store_server.cached_counts(self.conn, tokenizer, digests)

    @_guarded
    def cache_token_counts(self, tokenizer: str, counts: dict[str, int]) -> None:
        if counts:
            with self._write() as conn:
                store_server.cache_counts(conn, tokenizer, counts)

    @_reading
    def calibration(self, base_url: str, model: str) -> dict | None:
        return store_server.get_calibration(self.conn, base_url, model)

    @_guarded
    def set_calibration(self, base_url: str, model: str, state: dict) -> None:
        with self._write() as conn:
            store_server.set_calibration(conn, base_url, model, state)
