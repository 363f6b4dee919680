"""Which server a base URL points at: OpenAI's own API, or something compatible."""

from __future__ import annotations

from urllib.parse import urlsplit

OPENAI_HOST = "api.openai.com"


def is_openai_host(base_url: str | None) -> bool:
    """True for https://api.openai.com/...: the only host an OpenAI key goes to by default."""
    parts = urlsplit(base_url or f"https://{OPENAI_HOST}/v1")
    return parts.scheme == "https" and (parts.hostname or "").lower() == OPENAI_HOST


def sanitize_url(url: str) -> str:
    """``url`` without credentials, query or fragment: what may be stored or shown.

    ``https://user:pass@host:8443/v1?key=sk-...`` -> ``https://host:8443/v1``. The result
    keys what the store learns about a server, so it must be stable: lower-case scheme and
    host, no trailing slash.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    path = parts.path.rstrip("/")
    scheme = parts.scheme.lower()
    return f"{scheme}://{netloc}{path}" if scheme else f"{netloc}{path}"
