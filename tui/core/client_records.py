"""What the model client hands its callers: plain records, free of SDK types.

They live apart from the client so the chat flow, the store and the UI can name a reply's
events and parameters without importing the client (or, through it, the SDK's machinery).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TextDelta:
    text: str


@dataclass
class Finished:
    reason: str | None  # "stop", "length", "content_filter", ... None when the server gave none


@dataclass
class UsageReport:
    prompt_tokens: int
    completion_tokens: int
    # Prompt tokens the server served from its cache (prompt_tokens_details.cached_tokens);
    # None when it did not say.
    cached_tokens: int | None = None


@dataclass
class Retrying:
    attempt: int
    delay: float
    reason: str  # "rate limited (429)", "server error (503)"


StreamEvent = TextDelta | Finished | UsageReport | Retrying


@dataclass
class Completion:
    """A whole (non-streamed) reply."""

    text: str
    finish_reason: str | None
    usage: UsageReport | None


@dataclass
class ModelInfo:
    id: str
    context_window: int | None = None
    owned_by: str | None = None


@dataclass
class RequestParams:
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    # Ask for a JSON object (response_format json_object).
    json_output: bool = False
    # A server's own parameters (top_k, min_p...), sent in the body as they are. Names the
    # client sets itself are refused before they get here (tui.core.params).
    extra: dict[str, Any] = field(default_factory=dict)
