"""What a failed attempt of the model client means: wait and try again, or which error to raise.

Retries are the client's own (the SDK's are off) so that each wait can be reported: 429 and
5xx are retried with capped, jittered backoff or the server's Retry-After; every other status
and every transport failure becomes one :class:`~tui.core.client_errors.ClientError` naming
the server. A part of :class:`tui.core.client.ChatClient`, which inherits it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from tui.core import client_errors as errors
from tui.core.client_errors import (
    BadRequest,
    ClientError,
    ConnectFailed,
    RateLimited,
    RequestTimeout,
    ServerError,
)

if TYPE_CHECKING:  # only annotations: the client imports the SDK when first used
    import openai


class FailurePolicy:
    """The retry and error rules of :class:`tui.core.client.ChatClient`."""

    # Set by ChatClient.__init__.
    shown_url: str
    timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    max_retry_wait: float
    _rng: random.Random
    _key_withheld: bool

    if TYPE_CHECKING:
        async def _model_ids(self) -> list[str] | None: ...

    def _backoff(self, retries: int) -> float:
        """Exponential, capped, with jitter so many clients do not retry in lockstep."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** retries))
        return ceiling * (0.5 + self._rng.random() / 2)

    async def _retry_or_raise(self, exc: openai.APIStatusError, model: str,
                              retries: int) -> tuple[float, str]:
        """The wait before the next attempt, or raise the error this status means."""
        status = exc.status_code
        if status == 429:
            fields = errors.error_fields(exc)
            wait = errors.retry_after(exc)
            if "insufficient_quota" in (fields.get("code"), fields.get("type")):
                raise RateLimited(f"rate limited (429): {errors.server_message(exc)}",
                                  retry_after=wait)
            if retries >= self.max_retries:
                raise RateLimited(f"rate limited (429) by {self.shown_url}: still refused after "
                                  f"{retries} retries; try again later", retry_after=wait)
            if wait is not None and wait > self.max_retry_wait:
                raise RateLimited(f"rate limited (429) by {self.shown_url}: the server asks to "
                                  f"wait {wait:.0f} s", retry_after=wait)
            if wait is None:
                return self._backoff(retries), "rate limited (429)"
            return wait + self._rng.uniform(0, min(1.0, wait * 0.1)), "rate limited (429)"
        if status >= 500:
            if retries >= self.max_retries:
                raise ServerError(f"server error ({status}) from {self.shown_url} after {retries} "
                                  f"retries: {errors.server_message(exc)}", status=status)
            wait = errors.retry_after(exc)
            delay = self._backoff(retries) if wait is None else min(wait, self.backoff_max)
            return delay, f"server error ({status})"
        raise await self._status_error(exc, model)

    async def _status_error(self, exc: openai.APIStatusError, model: str) -> ClientError:
        status = exc.status_code
        if status in (401, 403):
            return errors.auth_error(exc, key_withheld=self._key_withheld)
        if status == 404 and errors.looks_like_model_error(exc, model):
            return errors.model_not_found(model, self.shown_url, await self._model_ids())
        if errors.is_context_error(exc):
            return errors.context_error(exc)
        if status == 404:
            available = await self._model_ids()
            if available and model not in available:
                return errors.model_not_found(model, self.shown_url, available)
        return errors.status_error(exc, self.shown_url)

    def _transport_error(self, exc: openai.APIError) -> ClientError:
        import openai  # already imported: ``exc`` is one of its errors

        if isinstance(exc, openai.APITimeoutError):
            return RequestTimeout(f"no answer from {self.shown_url} within {self.timeout:g} s "
                                  "(timeout)")
        if isinstance(exc, openai.APIConnectionError):
            return ConnectFailed(f"cannot reach {self.shown_url}: is the server running?",
                                 base_url=self.shown_url)
        return BadRequest(f"unexpected answer from {self.shown_url}: "
                          f"{errors.server_message(exc)}", status=0)
