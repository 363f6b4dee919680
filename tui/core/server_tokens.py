"""Exact counts from servers that tokenize on request: llama.cpp and vLLM.

llama.cpp serves ``POST /tokenize`` ({"content"} -> {"tokens"}) and ``POST /apply-template``
({"messages"} -> {"prompt"}, the chat template rendered); vLLM serves ``POST /tokenize`` with
{"model", "prompt"} or {"model", "messages"} -> {"count"}. Both sit at the server root, beside
``/v1``. Support is detected once per server and model; counts of message contents are cached
by digest (in memory and in the store), so a plan over a long history asks only about what is
new. The chat template's cost is measured once per message role (the planner adds it per
message) and the whole request can be counted exactly before it is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from typing import Any, Protocol

from tui.core.hosts import is_openai_host, sanitize_url
from tui.core.locked_writes import SIDE_PATIENCE, LockedStore, write_soon

CONCURRENCY = 8
# A request whose estimate (cached content counts plus the measured template cost) is within
# this share of the room it may take surely fits: the exact count is asked only nearer the
# edge, which spares the server two round trips (/apply-template, /tokenize) most of the time.
SURELY_FITS = 0.8
DRAFTS_KEPT = 8  # drafts' counts kept (count_draft): the user may go back to an earlier one


class RootPoster(Protocol):
    base_url: str

    async def post_root(self, path: str, body: dict[str, Any]) -> Any: ...


class CountCache(LockedStore, Protocol):
    """Where counts are kept between sessions (the Store)."""

    def cached_token_counts(self, tokenizer: str, digests: list[str]) -> dict[str, int]: ...

    def cache_token_counts(self, tokenizer: str, counts: dict[str, int]) -> None: ...


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


class ServerTokenizer:
    """One server's and model's tokenizer, reached over HTTP; ``None`` counts mean unknown."""

    def __init__(self, client: RootPoster, model: str, cache: CountCache | None = None) -> None:
        self.client = client
        self.model = model
        self.cache = cache
        self.key = f"{sanitize_url(client.base_url)}|{model}"
        self.flavor: str | None = None  # "llama.cpp" or "vllm" once detected
        self.supported: bool | None = None  # None: not probed yet
        self.overhead: dict[str, int] = {}  # template tokens around one message, by role
        self.fixed = 0  # template tokens once per request (BOS, the reply's header)
        self._counts: dict[str, int] = {}  # digest -> tokens
        # The latest drafts' counts (count_draft): in memory only, the newest last, until
        # a send stores the one that went.
        self._drafts: dict[str, int] = {}
        # message id -> (content length, tokens): spares hashing every message every plan
        self._by_id: dict[str, tuple[int, int]] = {}
        self._probe: asyncio.Future[bool] | None = None

    # -- detection -------------------------------------------------------------------------

    async def probe(self) -> bool:
        """Whether this server tokenizes and renders its template for us (asked once)."""
        if self.supported is not None:
            return self.supported
        if self._probe is None:
            self._probe = asyncio.ensure_future(self._detect())
        return await asyncio.shield(self._probe)

    async def _detect(self) -> bool:
        if is_openai_host(self.client.base_url):
            self.supported = False
            return False
        for flavor in ("llama.cpp", "vllm"):
            self.flavor = flavor
            if await self._count_text("Hello world") is not None:
                if await self._measure_template():
                    self.supported = True
                    return True
        self.flavor, self.supported = None, False
        return False

    async def _measure_template(self) -> bool:
        """Per-role overhead and the fixed cost, from a few tiny rendered conversations."""
        a, b, c = "a", "b", "c"
        t_a = await self._count_text(a)
        t_b = await self._count_text(b)
        t_c = await self._count_text(c)
        one = await self.count_request([{"role": "user", "content": a}])
        two = await self.count_request([{"role": "user", "content": a},
                                        {"role": "assistant", "content": b}])
        three = await self.count_request([{"role": "user", "content": a},
                                          {"role": "assistant", "content": b},
                                          {"role": "user", "content": c}])
        with_system = await self.count_request([{"role": "system", "content": b},
                                                {"role": "user", "content": a}])
        if None in (t_a, t_b, t_c, one, two, three, with_system):
            return False
        assert t_a is not None and t_b is not None and t_c is not None
        assert one is not None and two is not None and three is not None
        assert with_system is not None
        self.overhead = {
            "user": max(0, three - two - t_c),
            "assistant": max(0, two - one - t_b),
            "system": max(0, with_system - one - t_b),
        }
        self.fixed = max(0, one - t_a - self.overhead["user"])
        return True

    # -- counting --------------------------------------------------------------------------

    async def _count_text(self, text: str) -> int | None:
        if self.flavor == "vllm":
            answer = await self.client.post_root(
                "/tokenize", {"model": self.model, "prompt": text,
                              "add_special_tokens": False})
        else:
            answer = await self.client.post_root(
                "/tokenize", {"content": text, "add_special": False})
        return _token_count(answer)

    async def count_request(self, messages: list[dict[str, str]]) -> int | None:
        """The prompt tokens of a whole chat request, template included; None if unknown."""
        if self.flavor == "vllm":
            answer = await self.client.post_root(
                "/tokenize", {"model": self.model, "messages": messages,
                              "add_generation_prompt": True})
            return _token_count(answer)
        rendered = await self.client.post_root("/apply-template", {"messages": messages})
        prompt = rendered.get("prompt") if isinstance(rendered, dict) else None
        if not isinstance(prompt, str):
            return None
        answer = await self.client.post_root("/tokenize",
                                             {"content": prompt, "add_special": True})
        return _token_count(answer)

    def estimate_request(self, messages: list[dict[str, str]]) -> int | None:
        """A request's tokens from cached content counts and the measured template cost,
        without asking (None when a content's count is not known yet). Templates are not
        always additive, so this is for telling what surely fits, never for the limit."""
        total = self.fixed
        for message in messages:
            n = self.known(message["content"])
            if n is None:
                return None
            total += n + self.overhead.get(message["role"], 0)
        return total

    def known(self, text: str) -> int | None:
        """The cached count of ``text`` (content only), without asking anyone."""
        key = digest(text)
        n = self._counts.get(key)
        return self._drafts.get(key) if n is None else n

    async def count_draft(self, text: str) -> bool:
        """Count a draft the user paused on, so the meter reads the server's count before
        the send (it read the calibrated guess: 711 of a 512 window for a paste the server
        counted as 1.2k). Kept in memory only: a store of every pause's text would be
        clutter. True when a new count came in."""
        key = digest(text)
        if key in self._counts or key in self._drafts:
            return False
        n = await self._count_text(text)
        if n is None:
            return False
        self._drafts[key] = n
        while len(self._drafts) > DRAFTS_KEPT:
            del self._drafts[next(iter(self._drafts))]
        return True

    def known_message(self, message_id: str, content: str) -> int | None:
        """Like known, remembered by message id (a stored message's content only changes
        while it streams, and then its length does too)."""
        hit = self._by_id.get(message_id)
        if hit is not None and hit[0] == len(content):
            return hit[1]
        n = self.known(content)
        if n is not None and not message_id.startswith("~"):  # not a draft being typed
            self._by_id[message_id] = (len(content), n)
        return n

    def load_cached(self, texts: Iterable[str]) -> None:
        """Fill the memory cache from the store for ``texts`` (no HTTP)."""
        if self.cache is None:
            return
        missing = [d for d in (digest(t) for t in texts) if d not in self._counts]
        if missing:
            self._counts.update(self.cache.cached_token_counts(self.key, missing))

    async def count_texts(self, texts: Iterable[str]) -> None:
        """Make sure every text's count is known: the store first, then the server."""
        texts = list(dict.fromkeys(texts))
        self.load_cached(texts)
        missing = {d: t for d, t in ((digest(t), t) for t in texts) if d not in self._counts}
        # A draft counted while the user paused goes to the store with the send, unasked.
        drafted = {d: self._drafts.pop(d) for d in missing if d in self._drafts}
        todo = [t for d, t in missing.items() if d not in drafted]
        if not todo and not drafted:
            return
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(text: str) -> tuple[str, int | None]:
            async with gate:
                return digest(text), await self._count_text(text)

        fresh = {d: n for d, n in await asyncio.gather(*(one(t) for t in todo))
                 if n is not None}
        fresh.update(drafted)
        self._counts.update(fresh)
        cache, key = self.cache, self.key
        if cache is not None and fresh:
            # Known in memory already: stored now, or once another program's lock is free
            # (waited for on the event loop, it stalled the screen, then failed the send).
            write_soon(cache, lambda: cache.cache_token_counts(key, fresh),
                       patience=SIDE_PATIENCE)


def _token_count(answer: Any) -> int | None:
    if not isinstance(answer, dict):
        return None
    count = answer.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    tokens = answer.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None
