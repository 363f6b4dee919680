"""The 200-turn check of issue 8: one long conversation through the real chat flow, measured.

``run_long_conversation`` drives tui.core's ChatFlow in-process (the same path as the app and
``gpt-tui ask``) through a RecordingProxy in front of any OpenAI-compatible server (the fake
one in tests, a real llama-server from bench/bench_long_run.py), with deterministic prompts
of 20–120 words and every ``long_every``-th one of about ``long_words`` words. It returns
LongRunFigures: failed turns, requests refused as too long (chat and summary), summary
replies that were cut, how far the planner's estimate was from the server's count after
turns 1, 5, 20 and 100, and whether each preview equalled the request then sent.

How a turn is measured: when the flow reports the user message stored (before anything is
planned or sent), ``flow.preview(conversation)`` gives the planner's request and estimate;
the proxy then shows what went out. The turn's *chat* request is the first one ending with
the turn's text; *summary* requests are recognised by their instructions; anything else
(a title) is left aside. The preview is compared only on turns that summarized nothing (a
preview cannot know a summary not yet written); the count error only on turns whose
preview was the request sent. A turn whose message alone leaves under ``TOO_BIG_MARGIN``
tokens of the window, by the server's own count (llama.cpp's /apply-template + /tokenize,
or vLLM's /tokenize), is "too big": its failure is correct and counted apart.
"""

from __future__ import annotations

import json
import random
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fake_openai.proxy import Exchange, RecordingProxy
from tests.fake_openai.summaries import is_summary_request

CHECKPOINTS = (1, 5, 20, 100)
TOO_BIG_MARGIN = 32
SUMMARY_BLOCK = "Summary of the earlier conversation"

_WORDS = (
    "the a of to and in is it that for on with as was at by this be from or have an they "
    "which you one were all we when there can been has more if will would about so what "
    "model window token server request summary message context planner budget reply count "
    "conversation question answer history prompt system user assistant value number list "
    "function return error retry limit measure length window cache local remote stream "
    "because although however meanwhile therefore otherwise nevertheless particularly "
    "river mountain kitchen garden library station bicycle umbrella teacher doctor market "
    "blue green quickly slowly carefully honest simple strange familiar important careful "
    "write read keep drop fold split send store show learn forget check compare explain"
).split()


def make_prompt(rng: random.Random, words: int) -> str:
    """``words`` words of plausible-looking prose: sentences, commas, now and then a number."""
    out: list[str] = []
    sentence = 0
    for _ in range(words):
        if rng.random() < 0.04:
            word = str(rng.choice([7, 42, 128, 512, 2024, 31337, rng.randrange(10, 100000)]))
        else:
            word = rng.choice(_WORDS)
        if sentence == 0:
            word = word.capitalize()
        sentence += 1
        if sentence >= rng.randint(6, 16):
            word += rng.choice(".....?!")
            sentence = 0
        elif rng.random() < 0.08:
            word += ","
        out.append(word)
    text = " ".join(out)
    return text if text[-1] in ".?!" else text + "."


def make_prompts(turns: int, *, seed: int = 8, min_words: int = 20, max_words: int = 120,
                 long_every: int = 25, long_words: int = 300) -> list[str]:
    """The conversation's user messages: the same for the same arguments, on any machine."""
    rng = random.Random(seed)
    prompts = []
    for n in range(1, turns + 1):
        if long_every and n % long_every == 0:
            words = long_words + rng.randint(-10, 10)
        else:
            words = rng.randint(min_words, max_words)
        prompts.append(make_prompt(rng, words))
    return prompts


def short_reply(messages: list[dict[str, Any]]) -> str:
    """A fake model's answer: 8–40 words, fixed for a given question (for FakeOpenAI(reply=))."""
    last = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    rng = random.Random(str(last))
    return make_prompt(rng, rng.randint(8, 40))


@dataclass
class Turn:
    number: int
    words: int
    failed: str | None = None  # "kind: error" when the flow failed the turn
    too_big: bool = False
    estimate: int | None = None  # the preview's token count
    server_count: int | None = None  # the server's count of the turn's first chat request
    preview_matches: bool | None = None  # None: not comparable (the turn summarized)
    chat_requests: int = 0
    chat_overflows: int = 0
    summary_requests: int = 0
    summary_overflows: int = 0
    summary_cut: int = 0  # summary replies the server stopped with finish_reason "length"
    count_requests: int = 0  # /tokenize, /apply-template and the like


@dataclass
class LongRunFigures:
    strategy: str
    model: str
    window: int | None
    turns: list[Turn] = field(default_factory=list)
    # Summaries stored whose text is a reply the server had cut (finish_reason "length").
    cut_summaries_stored: int = 0

    @property
    def failed_turns(self) -> list[int]:
        """Turns that failed although their message fits the window."""
        return [t.number for t in self.turns if t.failed and not t.too_big]

    @property
    def too_big_turns(self) -> list[int]:
        return [t.number for t in self.turns if t.too_big]

    def total(self, name: str) -> int:
        return sum(getattr(t, name) for t in self.turns)

    @property
    def overflows(self) -> int:
        return self.total("chat_overflows") + self.total("summary_overflows")

    @property
    def preview_checked(self) -> int:
        return sum(t.preview_matches is not None for t in self.turns)

    @property
    def preview_mismatches(self) -> list[int]:
        return [t.number for t in self.turns if t.preview_matches is False]

    def count_error(self, at: int) -> tuple[int, float] | None:
        """(turn, (estimate - server) / server) at the first comparable turn from ``at`` on."""
        for turn in self.turns[at - 1:]:
            if turn.preview_matches and turn.estimate is not None and turn.server_count:
                return turn.number, (turn.estimate - turn.server_count) / turn.server_count
        return None

    def rows(self) -> list[tuple[str, str]]:
        rows = [
            ("turns", str(len(self.turns))),
            ("failed turns", f"{len(self.failed_turns)} {self.failed_turns[:10] or ''}".strip()),
            ("too big on their own", str(len(self.too_big_turns))),
            ("chat requests refused as too long",
             f"{self.total('chat_overflows')} of {self.total('chat_requests')}"),
            ("summary requests refused as too long",
             f"{self.total('summary_overflows')} of {self.total('summary_requests')}"),
            ("summary replies cut (length)", str(self.total("summary_cut"))),
            ("cut summaries stored", str(self.cut_summaries_stored)),
            ("other requests (/tokenize, /props, ...)", str(self.total("count_requests"))),
            ("preview == request sent",
             f"{self.preview_checked - len(self.preview_mismatches)} of {self.preview_checked}"),
        ]
        for at in CHECKPOINTS:
            error = self.count_error(at) if at <= len(self.turns) else None
            shown = "n/a" if error is None else f"{error[1]:+.1%} (turn {error[0]})"
            rows.append((f"count error after turn {at}", shown))
        return rows

    def table(self) -> str:
        width = max(len(name) for name, _ in self.rows())
        head = f"strategy {self.strategy}, model {self.model}, window {self.window or '?'}"
        return "\n".join([head] + [f"  {name:<{width}}  {value}" for name, value in self.rows()])


# --- the server's own count, where it gives one ---------------------------------------------


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def server_prompt_count(root: str, model: str, messages: list[dict[str, Any]]) -> int | None:
    """What the server at ``root`` would count for ``messages``; None when it cannot say."""
    try:
        prompt = _post(root + "/apply-template", {"messages": messages})["prompt"]
        return len(_post(root + "/tokenize", {"content": prompt, "add_special": True})["tokens"])
    except Exception:  # not llama.cpp: try vLLM's shape
        pass
    try:
        return int(_post(root + "/tokenize", {"model": model, "messages": messages})["count"])
    except Exception:
        return None


def server_window(root: str, model: str) -> int | None:
    """llama.cpp's n_ctx (/props), else vLLM's max_model_len (/v1/models)."""
    try:
        return int(_get(root + "/props")["default_generation_settings"]["n_ctx"])
    except Exception:
        pass
    try:
        for entry in _get(root + "/v1/models")["data"]:
            if entry.get("id") == model:
                window = entry.get("max_model_len") or (entry.get("meta") or {}).get("n_ctx")
                return int(window) if window else None
    except Exception:
        pass
    return None


# --- one conversation ------------------------------------------------------------------------


def _masked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": m.get("role"), "content": m.get("content")} for m in messages]


def _score(turn: Turn, text: str, exchanges: list[Exchange],
           preview: list[dict[str, Any]] | None) -> None:
    first_chat: Exchange | None = None
    for exchange in exchanges:
        if not exchange.is_chat:
            turn.count_requests += 1
        elif is_summary_request(exchange.body or {}):
            turn.summary_requests += 1
            turn.summary_overflows += exchange.too_long
            turn.summary_cut += exchange.status == 200 and exchange.finish_reason == "length"
        elif exchange.messages and exchange.messages[-1] == {"role": "user", "content": text}:
            turn.chat_requests += 1
            turn.chat_overflows += exchange.too_long
            first_chat = first_chat or exchange
    if first_chat is not None:
        turn.server_count = first_chat.prompt_tokens
        if preview is not None and not turn.summary_requests:
            turn.preview_matches = _masked(preview) == _masked(first_chat.messages)


async def run_long_conversation(base_url: str, *, model: str, strategy: str,
                                turns: int = 200, db_path: str | Path | None = None,
                                api_key: str = "sk-long-run", system_prompt: str = "",
                                window: int | None = None,
                                prompts: list[str] | None = None, seed: int = 8,
                                ) -> LongRunFigures:
    """Run ``turns`` turns of one conversation against ``base_url`` and measure them.

    ``window`` is the server's window when it does not say (llama.cpp /props and vLLM
    /v1/models are asked otherwise); ``prompts`` replaces make_prompts(turns, seed=seed).
    The database is a temporary file unless ``db_path`` is given.
    """
    from tui.core.chat import FlowFailed, UserMessageStored
    from tui.core.services import open_services

    root = base_url.rstrip("/").removesuffix("/v1")
    prompts = prompts if prompts is not None else make_prompts(turns, seed=seed)
    window = window or server_window(root, model)
    figures = LongRunFigures(strategy=strategy, model=model, window=window)
    with tempfile.TemporaryDirectory(prefix="gpt-tui-long-run-") as tmp, \
            RecordingProxy(root) as proxy:
        services = open_services(
            db_path=db_path or Path(tmp) / "long-run.db",
            flags={"base_url": proxy.base_url, "model": model, "api_key": api_key,
                   "strategy": strategy})
        try:
            services.counter.wait_loaded()
            flow = services.flow
            conversation = flow.new_conversation(model=model, system_prompt=system_prompt)
            for number, text in enumerate(prompts, start=1):
                turn = Turn(number, len(text.split()))
                alone = ([{"role": "system", "content": system_prompt}] if system_prompt
                         else []) + [{"role": "user", "content": text}]
                alone_count = server_prompt_count(root, model, alone) if window else None
                turn.too_big = alone_count is not None and window is not None and \
                    alone_count > window - TOO_BIG_MARGIN
                seen = len(proxy.exchanges)
                preview: list[dict[str, Any]] | None = None
                async for event in flow.send(conversation.id, text):
                    if isinstance(event, UserMessageStored):
                        plan = flow.preview(services.store.get_conversation(conversation.id))
                        if plan is not None:
                            preview, turn.estimate = list(plan.messages), plan.tokens
                    elif isinstance(event, FlowFailed):
                        turn.failed = f"{event.kind}: {event.error}"
                _score(turn, text, proxy.exchanges[seen:], preview)
                figures.turns.append(turn)
            cut = {e.reply.strip() for e in proxy.exchanges
                   if e.is_chat and is_summary_request(e.body or {})
                   and e.finish_reason == "length"}
            figures.cut_summaries_stored = sum(
                s.content.strip() in cut for s in services.store.list_summaries(conversation.id))
        finally:
            await services.aclose()
    return figures
