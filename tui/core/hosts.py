"""Which server a base URL points at, and how a base URL may be shown.

A base URL can carry secrets: ``https://user:pass@host/v1`` or ``...?api_key=...``. Those
go to the server and nowhere else: every place that shows or stores a URL (error messages,
the database, exports, the log) goes through :func:`redact_url` or :func:`redact_urls`.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

OPENAI_HOST = "api.openai.com"
HIDDEN = "***"

# Query parameters whose value is a secret (api_key, key, token, sig, X-Amz-Signature, ...).
_SECRET_PARAM = re.compile(r"key|token|secret|pass|auth|sig|credential|session|code", re.I)
# A URL inside free text: scheme://, then anything up to whitespace or a closing quote/bracket.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()\[\]{}]+")


def is_openai_host(base_url: str | None) -> bool:
    """True for https://api.openai.com/...: the only host an OpenAI key goes to by default."""
    parts = urlsplit(base_url or f"https://{OPENAI_HOST}/v1")
    return parts.scheme == "https" and (parts.hostname or "").lower() == OPENAI_HOST


def _redact_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and _SECRET_PARAM.search(name):
            value = HIDDEN
        pairs.append(f"{name}{sep}{value}")
    return "&".join(pairs)


def redact_url(url: str | None) -> str:
    """``url`` with its user:password and secret query values replaced by ``***``.

    ``https://user:pass@host/v1?api_key=k&v=1`` becomes ``https://***@host/v1?api_key=***&v=1``:
    still recognisable, never usable. Text that does not parse as a URL is returned with
    anything before an ``@`` hidden, to be safe.
    """
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return re.sub(r"^([^@/]*//)?[^@]*@", lambda m: f"{m.group(1) or ''}{HIDDEN}@", url,
                      count=1)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@" + netloc.rsplit("@", 1)[1]
    query = _redact_query(parts.query) if parts.query else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_urls(text: str) -> str:
    """Every URL inside ``text`` (an error message, a log line) passed through redact_url."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


# Shorter values are not hunted for in free text: hiding every "ab" would garble messages.
MIN_SECRET_LENGTH = 4


def url_secrets(url: str | None) -> tuple[str, ...]:
    """The secret parts of ``url`` (user, password, secret query values), as written and
    decoded, so an echo of them in a server's message can be hidden too."""
    if not url:
        return ()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found = [parts.username or "", parts.password or ""]
    for pair in parts.query.split("&") if parts.query else ():
        name, sep, value = pair.partition("=")
        if sep and _SECRET_PARAM.search(name):
            found.append(value)
    values = {v for raw in found for v in (raw, unquote(raw)) if len(v) >= MIN_SECRET_LENGTH}
    return tuple(sorted(values, key=len, reverse=True))


def request_secrets(url: str | None, api_key: str | None) -> tuple[str, ...]:
    """Everything a request to ``url`` with ``api_key`` carries that a server could echo in
    its error messages: the URL's secrets, the key, and the Basic credentials built from the
    URL's user and password (base64, as the Authorization header sends them)."""
    found = set(url_secrets(url))
    if api_key and len(api_key) >= MIN_SECRET_LENGTH:
        found.add(api_key)
    if url:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is not None and (parts.username or parts.password):
            for user, password in {(parts.username or "", parts.password or ""),
                                   (unquote(parts.username or ""),
                                    unquote(parts.password or ""))}:
                basic = base64.b64encode(f"{user}:{password}".encode()).decode()
                found.add(basic)
                found.add(basic.rstrip("="))
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with URLs redacted and each of ``secrets`` replaced by ``***``."""
    text = redact_urls(text)
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    return text


def split_query(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its query (and fragment), and the query's parameters."""
    parts = urlsplit(url)
    if not parts.query:
        return url, {}
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")).rstrip("/")
    return bare, dict(parse_qsl(parts.query, keep_blank_values=True))


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
