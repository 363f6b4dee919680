"""Which server a base URL points at: OpenAI's own API, or something compatible."""

from __future__ import annotations

from urllib.parse import urlsplit

OPENAI_HOST = "api.openai.com"


def is_openai_host(base_url: str | None) -> bool:
    """True for https://api.openai.com/...: the only host an OpenAI key goes to by default."""
    parts = urlsplit(base_url or f"https://{OPENAI_HOST}/v1")
    return parts.scheme == "https" and (parts.hostname or "").lower() == OPENAI_HOST
