"""Errors of the model client, and the translation of the SDK's exceptions into them.

Every failure reaches the user as one specific sentence (what went wrong, where, what to do),
never as an SDK traceback; the subclasses carry the facts the flow acts on (the context limit,
the models that do exist, ...). This module also reads the facts out of server error bodies,
whose wording differs between OpenAI, vLLM and llama.cpp.
"""

from __future__ import annotations

import difflib
import re
from email.utils import parsedate_to_datetime
from time import time
from typing import TYPE_CHECKING, Any

from tui.core.hosts import redact_urls
from tui.core.windows import parse_context_error

if TYPE_CHECKING:  # only annotations: the client imports the SDK when first used
    import openai

MAX_DETAIL = 300


class ClientError(Exception):
    """Base of every client failure; ``str(e)`` is the one-line message for the user."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AuthError(ClientError):
    """401 / 403."""


class ModelNotFound(ClientError):
    def __init__(self, message: str, *, model: str, available: list[str]) -> None:
        super().__init__(message)
        self.model = model
        self.available = available


class RateLimited(ClientError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(ClientError):
    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ConnectFailed(ClientError):
    def __init__(self, message: str, *, base_url: str) -> None:
        super().__init__(message)
        self.base_url = base_url


class RequestTimeout(ClientError):
    pass


class StreamCut(ClientError):
    """The connection dropped mid-reply; the deltas already yielded are the partial reply."""


class ContextLengthExceeded(ClientError):
    def __init__(self, message: str, *, limit: int | None = None,
                 requested: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.requested = requested


class BadRequest(ClientError):
    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


# --- reading server error bodies ------------------------------------------------------------

def error_fields(exc: openai.APIError) -> dict[str, Any]:
    """The ``error`` object of the body (the SDK already unwrapped it), or {}. Gemini's
    OpenAI endpoint sends its error in a list of one, ``[{"error": {...}}]``, which the SDK
    leaves as it is."""
    body = exc.body
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        inner = body[0].get("error", body[0])
        body = inner if isinstance(inner, dict) else body[0]
    return body if isinstance(body, dict) else {}


def server_message(exc: openai.APIError) -> str:
    """The server's own explanation, on one line and bounded."""
    fields = error_fields(exc)
    message = fields.get("message")
    if not isinstance(message, str) or not message:
        message = exc.body if isinstance(exc.body, str) and exc.body else exc.message
    return _one_line(message)


def _one_line(message: object) -> str:
    # A server may quote the URL it was asked for, credentials and all.
    message = redact_urls(" ".join(str(message).split()))
    return message if len(message) <= MAX_DETAIL else message[:MAX_DETAIL - 1] + "…"


_CONTEXT_HINT = re.compile(
    r"context length|context window|context size|maximum context|too many tokens|"
    r"exceeds? the (?:configured |available )?(?:limit|context)|"
    r"prompt is too long|input is too long|"  # Anthropic; Bedrock's gateways
    r"maximum number of tokens allowed|"  # Gemini
    r"maximum prompt length|"  # xAI
    r"model token limit|"  # Moonshot
    r"inputs`? tokens \+ `?max_new_tokens|inputs`? must have less than",  # TGI
    re.I)
# TGI answers its validation errors (a prompt too long among them) with 422.
_CONTEXT_STATUSES = (400, 413, 422)

def is_context_error(exc: openai.APIStatusError) -> bool:
    return _names_context(error_fields(exc)) or (
        exc.status_code in _CONTEXT_STATUSES
        and bool(_CONTEXT_HINT.search(server_message(exc))))


def _names_context(fields: dict[str, Any]) -> bool:
    return (fields.get("code") == "context_length_exceeded"
            or fields.get("type") == "exceed_context_size_error")  # llama.cpp


def parse_context_numbers(exc: openai.APIStatusError) -> tuple[int | None, int | None]:
    """(limit, requested) from the body fields llama.cpp sends, else from the message text."""
    return _context_numbers(error_fields(exc), server_message(exc))


def _context_numbers(fields: dict[str, Any], message: str) -> tuple[int | None, int | None]:
    """llama.cpp's body fields when present, else the numbers in the message text."""
    limit = fields.get("n_ctx") if isinstance(fields.get("n_ctx"), int) else None
    requested = (fields.get("n_prompt_tokens")
                 if isinstance(fields.get("n_prompt_tokens"), int) else None)
    parsed_limit, parsed_requested = parse_context_error(message)
    return (limit if limit is not None else parsed_limit,
            requested if requested is not None else parsed_requested)


_UNSUPPORTED = re.compile(r"Unsupported (?:parameter|value): '([\w.]+)'|"
                          r"Unrecognized request arguments? supplied: ([\w.]+)|"
                          r"'([\w.]+)' is not supported with this model", re.I)


def unsupported_param(exc: openai.APIStatusError) -> str | None:
    """The request parameter a 400 names as unsupported, if that is what it says."""
    if exc.status_code not in (400, 422):
        return None
    fields = error_fields(exc)
    if fields.get("code") in ("unsupported_parameter", "unsupported_value"):
        param = fields.get("param")
        if isinstance(param, str) and param:
            return param
    match = _UNSUPPORTED.search(server_message(exc))
    if match:
        return next(group for group in match.groups() if group)
    return None


def retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms``, ``retry-after`` (seconds or date)."""
    headers = exc.response.headers
    try:
        if "retry-after-ms" in headers:
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time(), 0.0)
    except (TypeError, ValueError, IndexError):
        return None


# --- messages ---------------------------------------------------------------------------------

def auth_error(exc: openai.APIStatusError, *, key_withheld: bool) -> AuthError:
    detail = server_message(exc)
    if exc.status_code == 403:
        return AuthError(f"the server refused access (403): {detail}")
    hint = "set OPENAI_API_KEY or api_key in the config file"
    if key_withheld:
        hint += (" (no key was sent: a key only goes to api.openai.com unless it was configured"
                 " together with this base URL)")
    return AuthError(f"the server rejected the API key (401): {hint}. Server said: {detail}")


def model_not_found(model: str, base_url: str, available: list[str] | None) -> ModelNotFound:
    message = f"model '{model}' not found on {base_url}"
    names = available or []
    if available is None:
        message += " (could not list the available models)"
    elif not available:
        message += " (the server lists no models)"
    elif model in names:
        # It answered "not found" for a model its own list has: no suggestion helps.
        message = (f"model '{model}' was refused by {base_url} as not found, though its "
                   "model list has it (no access to it with this key?)")
    else:
        close = difflib.get_close_matches(model, names, n=3, cutoff=0.5)
        if close:
            message += ": did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        shown = names[:8]
        more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
        message += f" Available: {', '.join(shown)}{more}"
    return ModelNotFound(message, model=model, available=names)


def looks_like_model_error(exc: openai.APIStatusError, model: str) -> bool:
    """A 404 about the model (not a wrong URL): OpenAI's code, or the model named in the text."""
    fields = error_fields(exc)
    if fields.get("code") == "model_not_found":
        return True
    message = server_message(exc).lower()
    named = bool(model) and model.lower() in message
    return named or ("model" in message and "not" in message)


def context_error(exc: openai.APIStatusError) -> ContextLengthExceeded:
    return _context_exceeded(error_fields(exc), server_message(exc))


def _context_exceeded(fields: dict[str, Any], message: str) -> ContextLengthExceeded:
    limit, requested = _context_numbers(fields, message)
    if limit is not None and requested is not None:
        numbers = f"the request needs {requested} tokens, the model takes {limit}"
    elif limit is not None:
        numbers = f"the model takes {limit} tokens"
    else:
        numbers = message
    return ContextLengthExceeded(f"the conversation is too long for the model's context window:"
                                 f" {numbers}", limit=limit, requested=requested)


def stream_error(error: Any) -> ClientError:
    """An error the server sent as an event of a 200 stream (``data: {"error": {...}}``).

    OpenAI and vLLM end a stream this way when generation fails after the status line was
    sent. A context-window overflow keeps its meaning (the flow can learn the window from
    it); anything else ends the reply like a cut, keeping the deltas already received.
    """
    fields = error if isinstance(error, dict) else {}
    message = fields.get("message") if fields else error
    if not isinstance(message, str) or not message:
        message = fields.get("type") or fields.get("code") or "an error occurred during streaming"
    message = _one_line(message)
    if _names_context(fields) or _CONTEXT_HINT.search(message):
        return _context_exceeded(fields, message)
    return StreamCut(f"the server ended the reply with an error: {message}")


def status_error(exc: openai.APIStatusError, base_url: str) -> ClientError:
    """Any other refusal: say which status and what the server explained."""
    status = exc.status_code
    detail = server_message(exc)
    if status == 404:
        return BadRequest(f"{base_url} has no such endpoint (404): check the base URL "
                          f"(OpenAI-compatible servers usually end in /v1). Server said: {detail}",
                          status=status)
    if status >= 500:
        return ServerError(f"server error ({status}) from {base_url}: {detail}", status=status)
    return BadRequest(f"the server rejected the request ({status}): {detail}", status=status)
