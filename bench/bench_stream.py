"""Streaming Markdown benchmark: does a fast reply stay live on screen?

Streams a realistic Markdown reply (headings, lists, tables, code) into a
``StreamingMarkdown`` inside a real Textual app (``App.run_test``, 120x40,
headless: the compositor renders every frame, nothing is written to a tty) at
a fixed token rate, one token per delta, delivered on schedule by an asyncio
task.  Prints, per reply size:

* ``lag p99/max`` how late deltas were delivered (the UI blocking the loop),
* ``gen2 gc``     full cyclic-GC collections during the stream and the longest one,
* ``final``       ms from the last append (followed at once by ``finish()``, as
                  the app does at end of stream) until the refresh that painted
                  the final blocks has completed (``call_after_refresh``),
* ``behind``      ms from when the last token was due (server time) to that paint,
* ``flush p50/max`` ms spent in one tail update (parse + widget updates),
* ``cpu``         process CPU seconds for the whole stream, and per 1k tokens,
* ``parsed/char`` characters re-parsed per source character (1.0 = each once).

Then the same reply through Textual's ``Markdown.get_stream()`` (capped), and
the cost of mounting many complete messages (``set_text``) versus one widget
per block and Textual's ``Markdown``.

    python bench/bench_stream.py
    python bench/bench_stream.py --tokens 1000 4000 8000 --rate 2000 --messages 1000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App, ComposeResult  # noqa: E402
from textual.containers import VerticalScroll  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import Markdown  # noqa: E402

from tui.ui.widgets.streaming_markdown import StreamingMarkdown  # noqa: E402

SIZE = (120, 40)


def reply_tokens(tokens: int) -> list[str]:
    """A ~``tokens``-token Markdown reply split into real token strings."""
    try:
        from tests.fake_openai.replies import markdown_reply
        from tests.fake_openai.tokens import split_tokens

        return list(split_tokens(markdown_reply(tokens)))
    except ImportError:  # pragma: no cover - fallback when the fake server is absent
        text = _fallback_reply(tokens)
        return [text[i : i + 4] for i in range(0, len(text), 4)]


def _fallback_reply(tokens: int) -> str:
    section = (
        "## Section\n\nA paragraph with **bold**, *italic* and `code` words in it.\n\n"
        "- one\n- two\n  - nested\n\n```python\ndef f(x):\n    return x * 2\n```\n\n"
        "| a | b |\n| - | - |\n| 1 | 2 |\n\n"
    )
    return section * max(1, tokens * 4 // len(section))


class Host(App[None]):
    """A chat-like host: a scrolling column anchored to the bottom."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield self.widget

    def on_mount(self) -> None:
        self.query_one("#log", VerticalScroll).anchor()


async def painted(widget: Widget) -> float:
    """perf_counter() once the next screen refresh has completed."""
    done = asyncio.get_running_loop().create_future()
    widget.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))
    return await done


class GCPauses:
    """Record cyclic-GC pauses: on a slow machine a full collection of a
    Textual app's objects takes tens of ms and shows up as delivery lag."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0

    def __enter__(self) -> "GCPauses":
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif info["generation"] == 2:
            self.pauses.append(time.perf_counter() - self._start)


LAGS: list[float] = []
LAST_DUE = 0.0
"""When the last token was due (the server's send time)."""


async def deliver(tokens: list[str], rate: float, sink: Any) -> tuple[float, float]:
    """Call ``sink(token)`` on schedule; returns (t_last_append, max lag s)."""
    start = time.perf_counter()
    lag = 0.0
    LAGS.clear()
    index = 0
    count = len(tokens)
    while index < count:
        now = time.perf_counter()
        due = start + index / rate
        if due > now:
            await asyncio.sleep(due - now)
            now = time.perf_counter()
        lag = max(lag, now - due)
        LAGS.append(now - due)
        # Everything already due arrives together, like one network read.
        while index < count and start + index / rate <= now:
            result = sink(tokens[index])
            if asyncio.iscoroutine(result):
                await result
            index += 1
    global LAST_DUE
    LAST_DUE = start + (count - 1) / rate
    return time.perf_counter(), lag


async def run_ours(tokens: list[str], rate: float) -> dict[str, Any]:
    widget = StreamingMarkdown()
    flush_times: list[float] = []
    original = widget._flush

    def timed_flush(final: bool = False) -> None:
        begin = time.perf_counter()
        original(final)
        flush_times.append(time.perf_counter() - begin)

    widget._flush = timed_flush  # type: ignore[method-assign]
    app = Host(widget)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        with GCPauses() as pauses:
            t_last, lag = await deliver(tokens, rate, widget.append)
            widget.finish()
            t_done = await painted(widget)
        lag_p99 = sorted(LAGS)[int(len(LAGS) * 0.99)]
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        screen = "\n".join(s.text for s in app.screen._compositor.render_strips())
        lines = [line for line in "".join(tokens).splitlines() if re.search(r"\w", line)]
        last_words = re.findall(r"\w+", lines[-1])[-2:]
        bottom = "\n".join([line for line in screen.splitlines() if line.strip()][-4:])
        assert widget.text == "".join(tokens)
        visible = all(word in bottom for word in last_words)
        splitter = widget.splitter
        source_chars = len(widget.text)
        return {
            "lag_ms": lag * 1000,
            "lag_p99_ms": lag_p99 * 1000,
            "gc2": len(pauses.pauses),
            "gc2_max_ms": max(pauses.pauses, default=0.0) * 1000,
            "final_ms": (t_done - t_last) * 1000,
            "behind_ms": (t_done - LAST_DUE) * 1000,
            "flush_p50_ms": statistics.median(flush_times) * 1000,
            "flush_max_ms": max(flush_times) * 1000,
            "flushes": len(flush_times),
            "cpu": cpu,
            "wall": wall,
            "parsed_per_char": splitter.parsed_chars_total / max(1, source_chars),
            "parsed_max": splitter.parsed_chars_max,
            "blocks": len(widget.children),
            "visible": visible,
        }


async def run_textual(tokens: list[str], rate: float, cap: float) -> dict[str, Any]:
    widget = Markdown()
    app = Host(widget)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        stream = Markdown.get_stream(widget)
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        written = 0
        deadline = wall0 + cap

        async def write(token: str) -> None:
            nonlocal written
            if time.perf_counter() > deadline:
                raise TimeoutError
            await stream.write(token)
            written += 1

        try:
            t_last, lag = await deliver(tokens, rate, write)
        except TimeoutError:
            t_last, lag = time.perf_counter(), float("nan")
        try:
            await asyncio.wait_for(stream.stop(), max(0.1, deadline - time.perf_counter()))
            t_done = await painted(widget)
            completed = written == len(tokens)
        except (asyncio.TimeoutError, TimeoutError):
            t_done = time.perf_counter()
            completed = False
        return {
            "lag_ms": lag * 1000,
            "final_ms": (t_done - t_last) * 1000,
            "behind_ms": (t_done - LAST_DUE) * 1000,
            "cpu": time.process_time() - cpu0,
            "wall": time.perf_counter() - wall0,
            "written": written,
            "completed": completed,
        }


async def run_mount(kind: str, texts: list[str]) -> dict[str, float]:
    """Mount one widget per complete message; time until first paint."""

    def make(text: str) -> Widget:
        if kind == "set_text":
            widget = StreamingMarkdown()
            widget.set_text(text)
            return widget
        if kind == "per-block":
            widget = StreamingMarkdown(text)
            widget.finish()
            return widget
        return Markdown(text)

    app = Host(Widget())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.query_one("#log", VerticalScroll)
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        widgets = [make(text) for text in texts]
        await log.mount_all(widgets)
        t_done = await painted(log)
        wall = t_done - wall0
        count = sum(1 for _ in log.walk_children())
        return {
            "wall": wall,
            "per_msg_ms": wall / len(texts) * 1000,
            "cpu": time.process_time() - cpu0,
            "widgets": count,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[1000, 4000, 8000])
    parser.add_argument("--rate", type=float, default=2000.0, help="tokens per second")
    parser.add_argument("--textual-tokens", type=int, default=4000)
    parser.add_argument("--textual-cap", type=float, default=60.0, help="seconds")
    parser.add_argument("--skip-textual", action="store_true")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--message-tokens", type=int, default=300)
    args = parser.parse_args()

    print(f"StreamingMarkdown, {args.rate:.0f} tokens/s, 1 token per delta, {SIZE[0]}x{SIZE[1]}")
    header = (
        f"{'tokens':>7} {'chars':>7} {'lag p99':>8} {'lag max':>8} {'gen2 gc':>12} "
        f"{'final':>8} {'behind':>8} {'flush p50':>9} "
        f"{'flush max':>9} {'flushes':>7} {'cpu s':>6} {'cpu/1k tok':>10} {'wall s':>6} "
        f"{'parsed/char':>11} {'blocks':>6} {'on screen':>9}"
    )
    print(header)
    for count in args.tokens:
        tokens = reply_tokens(count)
        r = asyncio.run(run_ours(tokens, args.rate))
        chars = sum(map(len, tokens))
        print(
            f"{len(tokens):>7} {chars:>7} {r['lag_p99_ms']:>6.1f}ms {r['lag_ms']:>6.1f}ms "
            f"{r['gc2']:>3}x{r['gc2_max_ms']:>5.0f}ms "
            f"{r['final_ms']:>6.1f}ms {r['behind_ms']:>6.1f}ms "
            f"{r['flush_p50_ms']:>7.2f}ms {r['flush_max_ms']:>7.2f}ms {r['flushes']:>7} "
            f"{r['cpu']:>6.2f} {r['cpu'] / len(tokens) * 1000:>10.3f} {r['wall']:>6.2f} "
            f"{r['parsed_per_char']:>11.2f} {r['blocks']:>6} {str(r['visible']):>9}"
        )

    if not args.skip_textual and args.textual_tokens:
        tokens = reply_tokens(args.textual_tokens)
        print(
            f"\nTextual Markdown.get_stream(), same input ({len(tokens)} tokens), "
            f"capped at {args.textual_cap:.0f}s"
        )
        r = asyncio.run(run_textual(tokens, args.rate, args.textual_cap))
        print(
            f"  written {r['written']}/{len(tokens)} tokens, completed={r['completed']}, "
            f"lag max {r['lag_ms']:.0f}ms, final {r['final_ms']:.0f}ms after last write, "
            f"{r['behind_ms']:.0f}ms after the last token was due, "
            f"cpu {r['cpu']:.2f}s, wall {r['wall']:.2f}s"
        )

    if not args.messages:
        return
    texts = [
        f"Reply number {n}.\n\n" + "".join(reply_tokens(args.message_tokens))
        for n in range(args.messages)
    ]
    print(f"\nMount {args.messages} complete replies of ~{args.message_tokens} tokens (first paint)")
    print(f"{'widget':>22} {'total s':>8} {'per msg':>9} {'cpu s':>6} {'widgets':>8}")
    kinds = [("set_text", args.messages), ("per-block", args.messages)]
    kinds.append(("textual Markdown", min(args.messages, 100)))
    for kind, n in kinds:
        r = asyncio.run(run_mount(kind, texts[:n]))
        label = kind if n == args.messages else f"{kind} (n={n})"
        print(
            f"{label:>22} {r['wall']:>8.2f} {r['per_msg_ms']:>7.2f}ms {r['cpu']:>6.2f} "
            f"{r['widgets']:>8}"
        )


if __name__ == "__main__":
    main()
