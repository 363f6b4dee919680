"""Timing of the per-send and per-keystroke context work.

    python bench/bench_context.py

Targets: planning the request for a 1,000-message conversation with stored counts < 5 ms;
counting a 100 kB draft incrementally per keystroke < 2 ms (typing at the end, and an edit
in the middle). Prints medians, and the draft counter's error against a whole-text count.
"""

from __future__ import annotations

import inspect
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

from tui.core import context, meter, tokens  # noqa: E402
from tui.core.context import budget_for, plan_request  # noqa: E402
from tui.core.meter import ContextMeter  # noqa: E402
from tui.core.models import Message, Role, Strategy  # noqa: E402
from tui.core.tokens import DraftCounter, TokenCounter  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def history_of(counter: TokenCounter, n: int) -> list[Message]:
    body = ("Here is a paragraph of an ordinary chat message, with a bit of code `f(x)` and "
            "some numbers 12345 in it, long enough to look like a real reply. ") * 6
    history = []
    for i in range(n):
        role = Role.USER if i % 2 == 0 else Role.ASSISTANT
        content = f"{i}: {body}"
        history.append(Message(id=f"{i:026d}", conversation_id="c", role=role, content=content,
                               token_count=counter.count_message(str(role), content),
                               token_encoding=counter.encoding_label))
    return history


def bench_plan(counter: TokenCounter) -> None:
    history = history_of(counter, 1000)
    for window, strategy in [(1_047_576, Strategy.SUMMARIZE), (128_000, Strategy.SUMMARIZE),
                             (128_000, Strategy.TRUNCATE), (8192, Strategy.SUMMARIZE)]:
        budget = budget_for(window, None)
        times = []
        for _ in range(50):
            start = time.perf_counter()
            plan = plan_request(system_prompt="You are a helpful assistant.", history=history,
                                summary=None, budget=budget, strategy=strategy,
                                counter=counter)
            times.append(time.perf_counter() - start)
        print(f"plan_request, 1000 messages, window {window:>9,}, {strategy.value:<9}: "
              f"median {median_ms(times):.2f} ms (target < 5)  "
              f"[sent {len(plan.sent_ids)}, to_summarize {len(plan.to_summarize)}, "
              f"truncated {plan.truncated}]")


def bench_plan_exact(counter: TokenCounter) -> None:
    """The same plans where the server counts (llama.cpp, vLLM): counts from its cache."""
    from tui.core.server_tokens import ServerTokenizer, digest
    from tui.core.sizing import Sizer

    class _Server:
        base_url = "http://127.0.0.1:8080/v1"

    history = history_of(counter, 1000)
    tokenizer = ServerTokenizer(_Server(), "local-model")  # type: ignore[arg-type]
    tokenizer.supported = True
    tokenizer.overhead = {"system": 5, "user": 5, "assistant": 5}
    tokenizer.fixed = 3
    for message in history:  # as if the server had counted them before (2x tiktoken)
        tokenizer._counts[digest(message.content)] = 2 * (message.token_count or 0)
    for window in (1_047_576, 8192):
        budget = budget_for(window, None)
        sizer = Sizer(counter, None, tokenizer)
        times = []
        for _ in range(50):
            start = time.perf_counter()
            plan_request(system_prompt="You are a helpful assistant.", history=history,
                         summary=None, budget=budget, strategy=Strategy.SUMMARIZE,
                         counter=counter, sizer=sizer)
            times.append(time.perf_counter() - start)
        print(f"plan_request, 1000 messages, window {window:>9,}, server counts: "
              f"median {median_ms(times):.2f} ms (target < 5)")


def draft_text() -> str:
    source = "".join(inspect.getsource(m) for m in (context, meter, tokens))
    text = source
    while len(text) < 100_000:
        text += source
    return text[:100_000]


def bench_draft(counter: TokenCounter) -> None:
    text = draft_text()
    draft = DraftCounter(counter)
    draft.update(text)
    exact = counter.count_text(text)
    print(f"draft 100 kB: chunked {draft.update(text)} vs whole-text {exact} tokens "
          f"(error {draft.update(text) - exact:+d})")

    typed = text
    times = []
    for i in range(300):
        typed += "abc def\n"[i % 8]
        start = time.perf_counter()
        draft.update(typed)
        times.append(time.perf_counter() - start)
    print(f"draft 100 kB, typing at the end      : median {median_ms(times):.3f} ms "
          f"(target < 2), max {max(times) * 1000:.3f} ms")

    middle = len(text) // 2
    edited = text
    times = []
    for i in range(300):
        edited = edited[:middle + i] + "xyz "[i % 4] + edited[middle + i:]
        start = time.perf_counter()
        draft.update(edited)
        times.append(time.perf_counter() - start)
    print(f"draft 100 kB, editing in the middle  : median {median_ms(times):.3f} ms "
          f"(target < 2), max {max(times) * 1000:.3f} ms")
    print(f"  error after edits: {draft.update(edited) - counter.count_text(edited):+d} tokens")

    one_line = ("A very long pasted paragraph that goes on and on without any line break. "
                * 1400)[:100_000]
    draft = DraftCounter(counter)
    draft.update(one_line)
    times = []
    for i in range(300):
        one_line += "abc "[i % 4]
        start = time.perf_counter()
        draft.update(one_line)
        times.append(time.perf_counter() - start)
    print(f"draft 100 kB single line, typing     : median {median_ms(times):.3f} ms "
          f"(target < 2), error {draft.update(one_line) - counter.count_text(one_line):+d}")


def bench_meter(counter: TokenCounter) -> None:
    history = history_of(counter, 1000)
    m = ContextMeter(counter)
    start = time.perf_counter()
    m.set_conversation(system_prompt="Be brief.", history=history, summary=None,
                       budget=budget_for(128_000, None), strategy=Strategy.SUMMARIZE)
    loaded = time.perf_counter() - start
    text = draft_text()
    m.reading(text)
    times = []
    for i in range(300):
        text += "abc def\n"[i % 8]
        start = time.perf_counter()
        m.reading(text)
        times.append(time.perf_counter() - start)
    print(f"meter: set_conversation 1000 messages {loaded * 1000:.2f} ms; reading() with a "
          f"100 kB draft per keystroke: median {median_ms(times):.3f} ms")


def main() -> None:
    counter = TokenCounter("gpt-4o")
    start = time.perf_counter()
    if not counter.load_blocking():
        print("o200k_base not in TIKTOKEN_CACHE_DIR: timings are for the estimator")
    print(f"encoding load: {(time.perf_counter() - start) * 1000:.0f} ms "
          f"({counter.encoding_label})")
    bench_plan(counter)
    bench_plan_exact(counter)
    bench_draft(counter)
    bench_meter(counter)


if __name__ == "__main__":
    main()
