"""The 200-turn check of issue 8: one long conversation through the real chat flow, measured.

``run_long_conversation`` drives tui.core's ChatFlow in-process (the same path as the app and
``gpt-tui ask``) through a RecordingProxy in front of any OpenAI-compatible server (the fake
one in tests, a real llama-server from bench/bench_long_run.py), with deterministic prompts
of 20–120 words and every ``long_every``-th one of about ``long_words`` words. It returns
LongRunFigures: failed turns, requests refused as too long (chat and summary), summary
replies that were cut, how far the planner's estimate was from the server's count after
turns 1, 5, 20 and 100, and whether each preview equalled the request then sent.

How a turn is measured: when the flow reports the user message stored (before anything is
planned or sent), the preview gives the planner's request and estimate: tui.core.preview's
``preview_request`` when the core has it, else ``flow.preview``. The proxy then shows what
went out. The turn's *chat* request is the first one ending with the turn's text; *summary*
requests are recognised by their instructions; anything else (a title) is left aside. A
preview that summarizes first cannot know the summary's text: then, when the summary the
turn wrote is in the request (the flow kept it), the messages the preview marks "sent" (or
"pinned") must be the request's messages besides the system prompt and the summary;
otherwise the request must equal the preview's exactly ("no request" included).
The count error is taken only on turns whose preview was the request sent, exactly. A turn
whose message alone leaves under ``TOO_BIG_MARGIN``
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
from tests.fake_openai.server import FakeOpenAI
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
    preview_matches: bool | None = None  # None: not compared (old preview, summarizing)
    preview_exact: bool = False  # compared whole: the estimate is of the request sent
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
            if turn.preview_exact and turn.estimate is not None and turn.server_count:
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
    # Marked, so a fake server's log can tell the harness's questions from the client's.
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json", "X-Long-Run": "probe"})
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


def _too_big(root: str, model: str, system_prompt: str, text: str, window: int | None,
             fake: FakeOpenAI | None = None) -> bool:
    """The message alone (with the system prompt) leaves no room in the window."""
    if not window:
        return False
    alone = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
        {"role": "user", "content": text}]
    # No tokenizer makes more tokens than UTF-8 bytes (plus the template's): only a message
    # that long can be too big, and only those cost a question to the server.
    if sum(len(m["content"].encode()) + 16 for m in alone) <= window - TOO_BIG_MARGIN:
        return False
    count = fake.count_prompt(alone) if fake is not None else server_prompt_count(
        root, model, alone)
    return count is not None and count > window - TOO_BIG_MARGIN


def _plain(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": m.get("role"), "content": m.get("content")} for m in messages]


@dataclass
class Preview:
    """What the preview promised for the turn's request."""

    messages: list[dict[str, Any]] | None  # the whole request; None: it sends nothing
    estimate: int | None
    # When it summarizes first: the messages it keeps verbatim (else None).
    kept: list[dict[str, Any]] | None = None


async def take_preview(flow: Any, conversation: Any) -> Preview | None:
    """The preview of the next request; None when it cannot be compared (see module doc)."""
    try:
        from tui.core.preview import preview_request
    except ImportError:  # a core without the preview view: the flow's own plan
        plan = flow.preview(conversation)
        if plan is None:
            return Preview(None, None)
        if plan.to_summarize:
            return None
        return Preview(list(plan.messages), plan.tokens)
    preview = await preview_request(flow, conversation)
    if preview.error:
        return Preview(None, None)
    if preview.will_summarize:
        kept = [{"role": item.role, "content": item.content} for item in preview.items
                if item.fate in ("sent", "pinned")]
        return Preview(None, None, kept=kept)
    return Preview(list(preview.messages), preview.tokens)


def _verbatim(messages: list[dict[str, Any]], system_prompt: str) -> list[dict[str, Any]]:
    """A request's messages besides its system prompt and its summary."""
    out = _plain(messages)
    if system_prompt and out and out[0] == {"role": "system", "content": system_prompt}:
        out = out[1:]
    return [m for m in out if not (m["role"] == "system"
                                   and str(m["content"]).startswith(SUMMARY_BLOCK))]


def _score(turn: Turn, text: str, exchanges: list[Exchange], preview: Preview | None,
           system_prompt: str) -> None:
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
    if preview is None:
        return
    turn.estimate = preview.estimate
    sent = _plain(first_chat.messages) if first_chat is not None else None
    if preview.kept is not None:
        # Compared only when this turn's summary made it into the request: a summary the
        # flow rejected (cut, too long) changes the plan, and no preview can know that.
        written = [e.reply.strip() for e in exchanges if e.is_chat and e.status == 200
                   and is_summary_request(e.body or {}) and e.reply.strip()]
        blocks = [str(m.get("content")) for m in sent or [] if m.get("role") == "system"
                  and str(m.get("content")).startswith(SUMMARY_BLOCK)]
        if sent is not None and any(b.endswith(w) for b in blocks for w in written):
            turn.preview_matches = _verbatim(sent, system_prompt) == _plain(preview.kept)
    elif preview.messages is None or sent is None:
        turn.preview_matches = preview.messages is None and sent is None
    else:
        turn.preview_matches = turn.preview_exact = _plain(preview.messages) == sent


async def run_long_conversation(base_url: str, *, model: str, strategy: str,
                                turns: int = 200, db_path: str | Path | None = None,
                                api_key: str = "sk-long-run", system_prompt: str = "",
                                window: int | None = None,
                                prompts: list[str] | None = None, seed: int = 8,
                                fake: FakeOpenAI | None = None,
                                deferred_encoding: bool = False) -> LongRunFigures:
    """Run ``turns`` turns of one conversation against ``base_url`` and measure them.

    ``window`` is the server's window when it does not say (llama.cpp /props and vLLM
    /v1/models are asked otherwise); ``prompts`` replaces make_prompts(turns, seed=seed).
    The database is a temporary file unless ``db_path`` is given. With ``fake`` (the
    FakeOpenAI at ``base_url``) its own request log is read instead of a proxy's: the same
    figures at half the HTTP cost. ``deferred_encoding``: the token encoding waits, as the
    app's does, until a request comes near the window (every send before typing paused).
    """
    from tui.core.chat import ContextNotice, FlowFailed, UserMessageStored
    from tui.core.services import open_services

    root = base_url.rstrip("/").removesuffix("/v1")
    prompts = prompts if prompts is not None else make_prompts(turns, seed=seed)
    window = window or (fake.window if fake is not None else None) or server_window(root, model)
    figures = LongRunFigures(strategy=strategy, model=model, window=window)
    proxy = None if fake is not None else RecordingProxy(root).start()

    def log_size() -> int:
        return len(proxy.exchanges) if proxy is not None else len(fake.requests)  # type: ignore

    def exchanges(start: int) -> list[Exchange]:
        """What the client exchanged with the server from log entry ``start`` on."""
        if proxy is not None:
            return proxy.exchanges[start:]
        assert fake is not None
        return [Exchange.from_fake(r) for r in fake.requests[start:]
                if r.headers.get("x-long-run") != "probe"]

    try:
        with tempfile.TemporaryDirectory(prefix="gpt-tui-long-run-") as tmp:
            services = open_services(
                db_path=db_path or Path(tmp) / "long-run.db",
                flags={"base_url": proxy.base_url if proxy else base_url, "model": model,
                       "api_key": api_key, "strategy": strategy},
                load_encoding=not deferred_encoding)
            try:
                if deferred_encoding:
                    services.counter.defer_loading()
                else:
                    services.counter.wait_loaded()
                flow = services.flow
                conversation = flow.new_conversation(model=model, system_prompt=system_prompt)
                for number, text in enumerate(prompts, start=1):
                    turn = Turn(number, len(text.split()))
                    turn.too_big = _too_big(root, model, system_prompt, text, window, fake)
                    seen = log_size()
                    preview: Preview | None = None
                    async for event in flow.send(conversation.id, text):
                        if isinstance(event, UserMessageStored):
                            preview = await take_preview(
                                flow, services.store.get_conversation(conversation.id))
                        elif isinstance(event, FlowFailed):
                            turn.failed = f"{event.kind}: {event.error}"
                        elif isinstance(event, ContextNotice) and event.kind == "summary_failed":
                            # Summarizing gave up part-way (a piece cut or too long): the
                            # pieces written before are used, which no preview can know.
                            preview = None
                    _score(turn, text, exchanges(seen), preview, system_prompt)
                    figures.turns.append(turn)
                cut = {e.reply.strip() for e in exchanges(0)
                       if e.is_chat and is_summary_request(e.body or {})
                       and e.finish_reason == "length"}
                figures.cut_summaries_stored = sum(s.content.strip() in cut for s in
                                                   services.store.list_summaries(conversation.id))
            finally:
                await services.aclose()
    finally:
        if proxy is not None:
            proxy.stop()
    return figures
