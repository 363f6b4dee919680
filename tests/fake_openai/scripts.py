"""What the fake server does for one chat request: a reply to stream, or an error to answer.

Tests queue these on the server (``server.script(...)``) so each request can be steered
without touching the client. The error factories reproduce OpenAI's own status codes, error
bodies and messages, so the client is exercised on the wire format it meets in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def error_body(message: str, type_: str, param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def context_length_message(limit: int, prompt: int, completion: int = 0) -> str:
    """OpenAI's wording, with the "requested" variant when output tokens were reserved."""
    if completion:
        return (f"This model's maximum context length is {limit} tokens. However, you requested "
                f"{prompt + completion} tokens ({prompt} in the messages, {completion} in the "
                "completion). Please reduce the length of the messages or completion.")
    return (f"This model's maximum context length is {limit} tokens. However, your messages "
            f"resulted in {prompt} tokens. Please reduce the length of the messages.")


def unsupported_param_body(param: str, value: Any = None) -> dict[str, Any]:
    """How OpenAI refuses a parameter a (reasoning) model does not take."""
    if param in ("temperature", "top_p"):
        shown = "" if value is None else f" {value}"
        return error_body(
            f"Unsupported value: '{param}' does not support{shown} with this model. "
            "Only the default (1) value is supported.",
            "invalid_request_error", param, "unsupported_value")
    hint = " Use 'max_completion_tokens' instead." if param == "max_tokens" else ""
    return error_body(f"Unsupported parameter: '{param}' is not supported with this model.{hint}",
                      "invalid_request_error", param, "unsupported_parameter")


@dataclass
class Script:
    """One scripted answer. Unset fields fall back to the server's defaults.

    ``status != 200`` answers ``error`` as JSON with ``headers``; otherwise ``text`` is
    streamed (or returned whole for a non-streaming request).
    """

    text: str | None = None
    tps: float | None = None
    # None: "stop", or "length" when max_tokens / the context window cut the reply.
    finish_reason: str | None = None
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Close the socket abruptly after this many content chunks (no [DONE], no final chunk).
    cut_after: int | None = None
    # Seconds before the status line is sent.
    first_byte_delay: float = 0.0
    # After this many content chunks, stall until the client goes away (or the server stops).
    hold_after: int | None = None
    # How a streamed reply's body is sent: "chunked" (the default), "close" (no length, no
    # chunked encoding: the body ends when the server closes the connection, as HTTP/1.0
    # servers and some proxies do), or "json" (the whole completion, ignoring "stream").
    body: str = "chunked"
    # An error answer quotes the Authorization header the request carried, as some servers
    # and proxies do in their messages.
    echo_auth: bool = False

    # --- factories for the errors OpenAI-compatible servers answer --------------------------

    @classmethod
    def reply(cls, text: str, **kwargs: Any) -> Script:
        return cls(text=text, **kwargs)

    @classmethod
    def http_error(cls, status: int, message: str, type_: str, param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> Script:
        return cls(status=status, error=error_body(message, type_, param, code),
                   headers=dict(headers or {}))

    @classmethod
    def invalid_api_key(cls) -> Script:
        return cls.http_error(
            401, "Incorrect API key provided: sk-bad. You can find your API key at "
            "https://platform.openai.com/account/api-keys.", "invalid_request_error",
            None, "invalid_api_key")

    @classmethod
    def model_not_found(cls, model: str) -> Script:
        return cls.http_error(
            404, f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error", None, "model_not_found")

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Script:
        headers = {} if retry_after is None else {"Retry-After": _seconds(retry_after)}
        return cls.http_error(
            429, "Rate limit reached for requests. Please try again later.",
            "requests", None, "rate_limit_exceeded", headers)

    @classmethod
    def server_error(cls, status: int = 500) -> Script:
        if status == 503:
            return cls.http_error(503, "The engine is currently overloaded, please try again "
                                  "later.", "server_error", None, None)
        return cls.http_error(status, "The server had an error while processing your request. "
                              "Sorry about that!", "server_error", None, None)

    @classmethod
    def context_length_exceeded(cls, limit: int, prompt: int, completion: int = 0) -> Script:
        return cls.http_error(400, context_length_message(limit, prompt, completion),
                              "invalid_request_error", "messages", "context_length_exceeded")

    @classmethod
    def unsupported_parameter(cls, param: str, value: Any = None) -> Script:
        return cls(status=400, error=unsupported_param_body(param, value))

    @classmethod
    def cut(cls, text: str, after: int) -> Script:
        return cls(text=text, cut_after=after)

    @classmethod
    def slow(cls, delay: float, text: str | None = None) -> Script:
        return cls(text=text, first_byte_delay=delay)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
