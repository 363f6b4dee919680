"""Token counting with tiktoken, and an honest estimate while (or when) it is unavailable.

The encoding loads in a background thread so start-up never waits on a 3 MB BPE file, and it
is only loaded from tiktoken's local cache: tiktoken would otherwise download it, and an
offline start must neither hang nor touch the network. Until it is loaded, counts come from
a heuristic and are labelled ``"estimate"`` so stored counts know to be redone.

Message overhead follows OpenAI's published rule for chat models (the cookbook's
``num_tokens_from_messages``): each message costs 3 tokens plus the encoded value of every
key (role, content, and name when present, which costs 1 more), and every reply is primed
with 3 tokens.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import tempfile
import threading
from collections.abc import Callable
from typing import Any

MESSAGE_OVERHEAD = 3
NAME_OVERHEAD = 1
REPLY_PRIMING = 3

ESTIMATE_LABEL = "estimate"
EXACT_SHARE = 0.5
"""A deferred encoding (the app's) loads once the text a request could send reaches this
share of its prompt budget in UTF-8 bytes. A token is at least a byte, and the estimate
never counts more tokens than bytes, so while the bytes (and a few tokens a message) stay
under the budget, estimated and exact counts plan the same request: everything is sent.
Half leaves room for the load to come before a send needs it. Where nothing else needs it
(tui/ui/encoding_load.py: OpenAI's models, servers that count) a chat far from its window
(most, with today's windows) never loads the encoding, ~50 MB of tables in tiktoken's Rust
core."""
FALLBACK_ENCODING = "o200k_base"

_BLOB = "https://openaipublic.blob.core.windows.net/"
_O200K = (_BLOB + "encodings/o200k_base.tiktoken",
          "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d")
_P50K = (_BLOB + "encodings/p50k_base.tiktoken",
         "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069")
# The files each encoding reads, as (blob URL, sha256), mirroring tiktoken_ext/openai_public.py;
# tiktoken caches a file under sha1(URL) and re-downloads it when missing or corrupt.
ENCODING_FILES: dict[str, list[tuple[str, str]]] = {
    "o200k_base": [_O200K],
    "o200k_harmony": [_O200K],
    "cl100k_base": [(_BLOB + "encodings/cl100k_base.tiktoken",
                     "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7")],
    "p50k_base": [_P50K],
    "p50k_edit": [_P50K],
    "r50k_base": [(_BLOB + "encodings/r50k_base.tiktoken",
                   "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930")],
    "gpt2": [(_BLOB + "gpt-2/encodings/main/vocab.bpe",
              "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"),
             (_BLOB + "gpt-2/encodings/main/encoder.json",
              "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783")],
}


def _bare_model_name(model: str) -> str:
    """``openai/gpt-4o`` (OpenRouter style) -> ``gpt-4o``; case folded."""
    return model.strip().lower().rsplit("/", 1)[-1]


def encoding_name_for_model(model: str) -> str:
    """tiktoken's encoding for ``model``; o200k_base for names it does not know (local models)."""
    import tiktoken

    for name in (model.strip(), _bare_model_name(model)):
        try:
            return tiktoken.encoding_name_for_model(name)
        except KeyError:
            continue
    return FALLBACK_ENCODING


def tiktoken_cache_dir() -> str | None:
    """The folder tiktoken reads cached files from (same rules as tiktoken/load.py).

    None when caching is disabled (``TIKTOKEN_CACHE_DIR=""``), which means every load would
    go to the network.
    """
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return cache_dir or None


def encoding_is_cached(encoding_name: str) -> bool:
    """True when every file ``encoding_name`` needs is in tiktoken's cache with the right hash.

    Checking the hash too matters: tiktoken deletes and re-downloads a corrupt cached file.
    """
    files = ENCODING_FILES.get(encoding_name)
    cache_dir = tiktoken_cache_dir()
    if not files or cache_dir is None:
        return False
    for url, sha256 in files:
        path = os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest())
        try:
            with open(path, "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() != sha256:
                    return False
        except OSError:
            return False
    return True


# --- estimation -------------------------------------------------------------------------------
# Calibrated against o200k_base and cl100k_base on English prose, Python code, CJK, emoji,
# accented/Cyrillic text and numbers (tests/test_tokens.py checks the bounds). Measured ratio
# estimate/exact: o200k_base 0.93..1.16 (code 1.15, prose 1.08, CJK 1.15, emoji 1.07);
# cl100k_base 0.72..1.16 (it spends more tokens on emoji and CJK). Mostly high: the safe side.
_ESTIMATE_PIECES = re.compile(
    r"(?P<cjk>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+)"
    r"|(?P<word>[^\W\d_]+)"
    r"|(?P<digits> ?[0-9]+)"
    r"|(?P<space>[ \t]*\n\s*|[ \t]{2,})"
    r"|(?P<symbol>[^\w\s\x00-\x7f]+)"
    # ASCII but not a space, letter or digit; spelled out: as "[^\sA-Za-z0-9\u0080-
    # \U0010ffff]" the class took 2.5 ms of every start to compile (the same set: a test).
    r"|(?P<punct>[\x00-\x08\x0e-\x1b!-/:-@\[-`{-\x7f]+)"
)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free count for when no encoding is available.

    Words cost 1 token per 6 UTF-8 bytes started, digits 1 per 3 (plus a space before them,
    which BPE keeps apart), CJK 3 per 4 characters, emoji and other symbols 2 per 5 bytes,
    ASCII punctuation 1 per 2 characters, each newline or indentation run 1, and single spaces
    nothing (they merge into the following word).
    """
    if not text:
        return 0
    total = 0.0
    for match in _ESTIMATE_PIECES.finditer(text):
        kind = match.lastgroup
        piece = match.group()
        if kind == "word":
            size = len(piece) if piece.isascii() else len(piece.encode("utf-8"))
            total += 1 + (size - 1) // 6
        elif kind == "digits":
            total += math.ceil(len(piece.lstrip(" ")) / 3) + (piece[0] == " ")
        elif kind == "space":
            total += 1
        elif kind == "cjk":
            total += len(piece) * 0.75
        elif kind == "symbol":
            total += len(piece.encode("utf-8")) * 0.4
        else:
            total += math.ceil(len(piece) / 2)
    return max(1, math.ceil(total))


def text_bytes(text: str) -> int:
    """UTF-8 bytes of ``text``, an upper bound on its tokens (a lone surrogate counts too)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def counts_may_matter(size: int, available: int) -> bool:
    """Whether a request whose texts hold ``size`` UTF-8 bytes is near enough to a prompt
    budget of ``available`` tokens for its counts to be worth exact (EXACT_SHARE)."""
    return size >= available * EXACT_SHARE


def drop_python_ranks(encoding: Any) -> None:
    """Free the Python copy of the encoding's token table (~28 MB for o200k_base).

    tiktoken keeps the ``{bytes: rank}`` dict it built the Rust tokenizer from, but only
    pickling reads it again; counting (``encode_ordinary``) runs in Rust alone. A private
    attribute (tests/test_tokens_memory.py checks it is still there): if it moves, nothing breaks,
    the memory is just kept.
    """
    if isinstance(getattr(encoding, "_mergeable_ranks", None), dict):
        encoding._mergeable_ranks = {}


class TokenCounter:
    """Counts tokens for one model's encoding, exactly once loaded, estimated before."""

    def __init__(self, model: str = "gpt-4o") -> None:
        self.model = model
        self._encoding: Any = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._deferred = False
        self._callbacks: list[Callable[[TokenCounter], None]] = []
        self._role_tokens: dict[str, int] = {}

    # -- loading --
    @functools.cached_property
    def encoding_name(self) -> str:
        """Asked of tiktoken when first needed (importing it costs ~12 ms and 3 MB), so an
        app whose encoding waits (defer_loading) does not import tiktoken at start."""
        return encoding_name_for_model(self.model)

    @property
    def exact(self) -> bool:
        return self._encoding is not None

    @property
    def encoding_label(self) -> str:
        """The encoding name once loaded, ``"estimate"`` before; stored with each count."""
        return self.encoding_name if self._encoding is not None else ESTIMATE_LABEL

    def start_loading(self) -> None:
        """Load the encoding in a daemon thread; a second call is a no-op."""
        with self._lock:
            if self._thread is not None or self._encoding is not None:
                return
            self._thread = threading.Thread(target=self.load_blocking, daemon=True,
                                            name="tiktoken-load")
            self._thread.start()

    def defer_loading(self) -> None:
        """Load on the first ``request_load`` rather than now: the app asks for it once
        typing pauses where a chat needs it (near its window, EXACT_SHARE, or counts to
        calibrate), so a session that does not never holds the encoding (~50 MB)."""
        self._deferred = True

    @property
    def deferred(self) -> bool:
        """Loading waits for ``request_load`` and has not started."""
        return self._deferred and self._thread is None and self._encoding is None

    def request_load(self) -> None:
        """Start the deferred load (in a thread); cheap and a no-op unless deferred."""
        if self.deferred:
            self.start_loading()

    async def load_if_deferred(self) -> bool:
        """Start a deferred load and wait for it without holding the event loop; True
        when counts are exact after it. A no-op (but the answer) when not deferred."""
        self.request_load()
        if self._encoding is None and self._thread is not None:
            import asyncio

            await asyncio.to_thread(self.wait_loaded)
        return self._encoding is not None

    def load_blocking(self) -> bool:
        """Load now from the local cache only; False (and estimates stay) when it can't."""
        try:
            if self._encoding is not None:
                return True
            if not encoding_is_cached(self.encoding_name):
                return False
            try:
                import tiktoken

                encoding = tiktoken.get_encoding(self.encoding_name)
                drop_python_ranks(encoding)
            except Exception:  # a broken cache must not take the app down
                return False
            with self._lock:
                if self._encoding is not None:
                    return True
                self._encoding = encoding
                self._role_tokens.clear()
                callbacks = list(self._callbacks)
            for callback in callbacks:
                callback(self)
            return True
        finally:
            self._done.set()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until a load attempt finished; True when the encoding is loaded."""
        if self._encoding is None and self._thread is not None:
            self._done.wait(timeout)
        return self._encoding is not None

    def on_loaded(self, callback: Callable[[TokenCounter], None]) -> None:
        """Call ``callback(counter)`` once counts become exact (now, if they already are).

        It runs on the loader thread: UI code should hop back with ``call_from_thread``.
        """
        with self._lock:
            if self._encoding is None:
                self._callbacks.append(callback)
                return
        callback(self)

    # -- counting --
    def count_text(self, text: str) -> int:
        """Tokens in ``text``; special-token markers in user text count as plain text."""
        encoding = self._encoding
        if encoding is None:
            return estimate_tokens(text)
        return len(encoding.encode_ordinary(text))

    def _role(self, role: str) -> int:
        cached = self._role_tokens.get(role)
        if cached is None:
            cached = self._role_tokens[role] = self.count_text(role)
        return cached

    def count_message(self, role: str, content: str, name: str | None = None) -> int:
        """One chat message: overhead + role + content (+ name and its overhead)."""
        total = MESSAGE_OVERHEAD + self._role(str(role)) + self.count_text(content)
        if name:
            total += self.count_text(name) + NAME_OVERHEAD
        return total


class DraftCounter:
    """Counts the text being typed, re-encoding only the chunks an edit touched.

    The draft is cut at content-defined points (line ends, and sentence ends inside very long
    lines), so an edit leaves every other chunk's text, and so its cached count, unchanged.
    Summing chunk counts slightly over-counts versus encoding the whole text (a token cannot
    span a cut); measured on prose and code the excess is under 1%; see tests/test_tokens.py.
    """

    LONG_LINE = 2000
    _LINES = re.compile(r"[^\n]*\n+|[^\n]+")
    # A sentence starts with the whitespace before it: BPE glues a space to the next word.
    _SENTENCES = re.compile(r"\s*[^.!?\s][^.!?]*[.!?]*|\s+|[.!?]+")

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter
        self._label = counter.encoding_label
        self._cache: dict[str, int] = {}
        self._text = ""
        self._total = 0

    def _chunks(self, text: str) -> list[str]:
        chunks: list[str] = []
        for line in self._LINES.findall(text):
            if len(line) <= self.LONG_LINE:
                chunks.append(line)
                continue
            for piece in self._SENTENCES.findall(line):
                chunks.extend(self._slices(piece))
        return chunks

    def _slices(self, piece: str) -> list[str]:
        """A long run without sentence ends, cut before a space every LONG_LINE chars or so.

        Cutting before a space keeps BPE's split (the space starts the next token); a run
        with no spaces at all (base64) is cut blindly and may over-count by a token per cut.
        """
        slices: list[str] = []
        start = 0
        while len(piece) - start > self.LONG_LINE:
            cut = piece.rfind(" ", start + 1, start + self.LONG_LINE + 1)
            if cut < 0:
                cut = piece.find(" ", start + self.LONG_LINE, start + 2 * self.LONG_LINE)
            if cut < 0:
                cut = start + self.LONG_LINE
            slices.append(piece[start:cut])
            start = cut
        slices.append(piece[start:])
        return slices

    def update(self, text: str) -> int:
        """Tokens in ``text`` (content only, no message overhead)."""
        label = self.counter.encoding_label
        if label != self._label:
            self._label, self._cache, self._text = label, {}, ""
        elif text == self._text:
            return self._total
        old = self._cache
        cache: dict[str, int] = {}
        count = self.counter.count_text
        total = 0
        for chunk in self._chunks(text):
            n = cache.get(chunk)
            if n is None:
                n = old.get(chunk)
                if n is None:
                    n = count(chunk)
                cache[chunk] = n
            total += n
        self._cache, self._text, self._total = cache, text, total
        return total
