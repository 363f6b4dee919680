"""Token counting and token-sized chunking for the fake server.

By default the server counts prompts the way OpenAI bills them (o200k_base, 3 tokens per
message plus 3 to prime the reply) so context-window tests see the same numbers a real server
reports; ``ForeignTokenizer`` counts like a llama.cpp model instead (see foreign.py). When
the BPE file cannot be loaded (offline machine without the shared cache) it falls back to a
word/punctuation split so the server still runs by hand.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.fake_openai import foreign

MESSAGE_OVERHEAD = 3
NAME_OVERHEAD = 1
REPLY_PRIMING = 3

_SHARED_CACHE = Path(__file__).resolve().parents[3] / "shared" / "tiktoken"
_FALLBACK_SPLIT = re.compile(r"\s*\w{1,4}|\s*[^\w\s]|\s+")

_lock = threading.Lock()
_encoding: Any = None
_loaded = False


def encoding() -> Any:
    """The o200k_base encoding, or None when tiktoken cannot load it."""
    global _encoding, _loaded
    with _lock:
        if not _loaded:
            _loaded = True
            if "TIKTOKEN_CACHE_DIR" not in os.environ and _SHARED_CACHE.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(_SHARED_CACHE)
            try:
                import tiktoken

                _encoding = tiktoken.get_encoding("o200k_base")
            except Exception:  # no network, no cache: fall back to an estimate
                _encoding = None
        return _encoding


def count_text(text: str) -> int:
    enc = encoding()
    if enc is None:
        return len(_FALLBACK_SPLIT.findall(text))
    return len(enc.encode(text, disallowed_special=()))


def count_messages(messages: list[dict[str, Any]]) -> int:
    """Prompt tokens of a chat request under OpenAI's overhead rule."""
    total = REPLY_PRIMING
    for message in messages:
        total += MESSAGE_OVERHEAD
        for key, value in message.items():
            if not isinstance(value, str):
                value = _content_text(value)
            total += count_text(value)
            if key == "name":
                total += NAME_OVERHEAD
    return total


def _content_text(value: Any) -> str:
    """Text of a content-parts list (``[{"type": "text", "text": ...}]``); else its repr."""
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return "" if value is None else str(value)


def split_tokens(text: str) -> list[str]:
    """``text`` as a list of token-sized strings that concatenate back to it exactly.

    Byte-level tokens can split a UTF-8 character; those are merged with their neighbours.
    """
    enc = encoding()
    if enc is None:
        return _FALLBACK_SPLIT.findall(text) if text else []
    return list(_whole_chars(enc.decode_tokens_bytes(enc.encode(text, disallowed_special=()))))


def _whole_chars(pieces: list[bytes]) -> Iterator[str]:
    pending = b""
    for piece in pieces:
        pending += piece
        try:
            text = pending.decode("utf-8")
        except UnicodeDecodeError:
            continue
        pending = b""
        yield text
    if pending:
        yield pending.decode("utf-8", errors="replace")


# --- the server's tokenizer: OpenAI's (default) or a foreign one --------------------------


# A token's text, or its byte values when it is not whole UTF-8 (as llama.cpp answers).
Piece = str | list[int]


class Tokenizer:
    """How the server counts: OpenAI's rule over o200k_base (the default)."""

    name = "tiktoken"

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        return count_messages(messages)

    def count_text(self, text: str) -> int:
        return count_text(text)

    def pieces(self, text: str) -> list[str]:
        return split_tokens(text)

    def encode(self, text: str, *, parse_special: bool = True) -> list[tuple[int, Piece]]:
        """(id, piece) per token; a piece that is not whole UTF-8 comes as its byte values."""
        enc = encoding()
        if enc is None:
            return [(i, p) for i, p in enumerate(_FALLBACK_SPLIT.findall(text))]
        allowed: Any = "all" if parse_special else set()
        out: list[tuple[int, Piece]] = []
        for token in enc.encode(text, allowed_special=allowed, disallowed_special=()):
            raw = enc.decode_single_token_bytes(token)
            try:
                out.append((token, raw.decode("utf-8")))
            except UnicodeDecodeError:
                out.append((token, list(raw)))
        return out


class ForeignTokenizer(Tokenizer):
    """A llama.cpp-like model's count: see tests/fake_openai/foreign.py."""

    name = "foreign"

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        return foreign.count_messages(messages)

    def count_text(self, text: str) -> int:
        return foreign.count_text(text)

    def pieces(self, text: str) -> list[str]:
        return foreign.pieces(text)

    def encode(self, text: str, *, parse_special: bool = True) -> list[tuple[int, Piece]]:
        return list(foreign.encode(text, parse_special=parse_special))


TOKENIZERS: dict[str, Tokenizer] = {"tiktoken": Tokenizer(), "foreign": ForeignTokenizer()}


def get_tokenizer(name: str) -> Tokenizer:
    try:
        return TOKENIZERS[name]
    except KeyError:
        raise ValueError(f"unknown tokenizer {name!r} (known: {', '.join(TOKENIZERS)})") from None
