"""The streaming rows of ``bench_terminal.py``: the installed app in a pty, as a user sees it.

The test server runs in its own process (``bench_app.py --serve``: the fake server's CLI plus a
``DONE <t>`` line, CLOCK_MONOTONIC, right after it has written ``data: [DONE]``), so neither
it nor pyte competes with it for a GIL. Each reply ends with a unique marker; "shown" is when
pyte's screen (whole frames only, see tests/terminal/harness.py) first holds the marker.

Rows, each over ``runs`` replies (a new chat each, Ctrl+N, in one app process per row):

* ``lag``     ms from the server's last byte to the marker on screen, at 200 and 2,000 tok/s,
              for 1k-, 4k- and 20k-token Markdown replies and a reply that is one 150-row table.
              "On screen" is when the frame that shows the marker was read off the pty: pyte
              then takes another ~10-30 ms (pure Python, 10-15 KB a full frame) to parse it,
              which a terminal written in C does in well under a millisecond; that figure is
              printed too ("parsed by pyte");
* ``cpu``     the app's CPU (/proc: user + system) from Enter to the marker (the message is
              typed before), per token and per second, at 20 / 200 / 2,000 / 5,000 tok/s; and
              per second while the reply streams: from its block on screen (its header says
              "streaming…") to the marker, without sending the message (storing it, counting
              the context, laying out the new blocks: ~0.1 s a reply). The app has loaded its
              tokenizer first (see ``load_tokenizer``: ~0.35 s that would otherwise land
              in the first reply measured);
* ``typing``  keystroke to echo in the composer while a reply streams at 2,000 tok/s: until
              the frame showing it was read off the pty, as for ``lag`` (pyte's parse, behind
              the stream's big frames, is printed too);
* ``idle``    the app's CPU over 10 s, from 5 s after a reply (the cursor has stopped
              blinking: the screen is still).
"""

from __future__ import annotations

import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "zq-end-of-reply"
PLACEHOLDER = "Message…"
EMPTY_PANE = "No messages yet"
STREAMING = "streaming…"


def markdown_text(tokens: int) -> str:
    from tests.fake_openai.replies import markdown_reply

    return markdown_reply(tokens) + f"\n\nThat is all: {MARKER}.\n"


def table_text(rows: int = 150) -> str:
    lines = ["| n | name | square | note |", "|---|---|---|---|"]
    lines += [f"| {i} | item number {i} | {i * i} | some longer text in the fourth column {i} |"
              for i in range(rows - 1)]
    lines.append(f"| {rows - 1} | item number {rows - 1} | {(rows - 1) ** 2} | {MARKER} |")
    return "\n".join(lines) + "\n"


class ServerProcess:
    """``bench_app.py --serve`` answering ``text`` at ``tps``; ``last_byte()`` waits for DONE."""

    def __init__(self, text: str, tps: float, folder: Path) -> None:
        reply = folder / f"reply-{time.time_ns()}.md"
        reply.write_text(text, encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bench_app.py"), "--serve", "--port", "0",
             "--reply-file", str(reply), "--tps", f"{tps:g}"],
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        banner = self.proc.stdout.readline()
        match = re.search(r"(http://\S+/v1)", banner)
        if not match:
            self.close()
            raise RuntimeError(f"unexpected server banner: {banner!r}")
        self.base_url = match.group(1)
        self._done: queue.Queue[float] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("DONE "):
                self._done.put(float(line.split()[1]))

    def last_byte(self, timeout: float) -> float:
        return self._done.get(timeout=timeout)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@dataclass
class App:
    """One ``gpt-tui`` on a pty against ``server``, on an empty database."""

    term: object
    server: ServerProcess

    @property
    def pid(self) -> int:
        return self.term.process.pid  # type: ignore[attr-defined]


def start_app(binary: Path, server: ServerProcess, home: Path, size: tuple[int, int],
              env_for: Callable[[Path, str], dict[str, str]]) -> App:
    from tests.terminal.harness import Terminal

    folder = Path(tempfile.mkdtemp(dir=home))
    term = Terminal([str(binary), "--db", str(folder / "chats.db"), "--model", "bench-model"],
                    env=env_for(folder, server.base_url), cwd=folder, size=size)
    term.wait_for(PLACEHOLDER, timeout=60)
    return App(term, server)


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Reply:
    """One measured reply (times from the server's last byte, in ms)."""

    lag: float
    """Until the frame showing the reply's last words reached the terminal."""
    parsed_lag: float
    """Until pyte had parsed that frame (see the module's docstring)."""
    cpu: float
    """The app's CPU seconds from Enter to the last words."""
    seconds: float
    """From Enter to the last words."""
    streaming_cpu: float
    """The app's CPU seconds while the reply streamed: from its block on screen (the header
    saying "streaming…") to its last words, without the sending before."""
    streaming_seconds: float


def type_in_new_chat(app: App) -> None:
    """Open a new, empty chat (Ctrl+N) and type the message, not yet sent."""
    term = app.term
    term.send(b"\x0e")
    term.wait_for(EMPTY_PANE, timeout=30)
    term.send("Tell me everything.")
    term.wait_for("Tell me everything.", timeout=30)


def one_reply(app: App, timeout: float) -> Reply:
    """Send a message in a new chat and wait for the reply's last words on screen."""
    term = app.term
    type_in_new_chat(app)
    cpu0, sent = process_cpu(app.pid), time.monotonic()
    term.send("\r")
    term.wait_until(lambda text: STREAMING in text or MARKER in text,
                    what="the reply's block", timeout=timeout)
    cpu1, started = process_cpu(app.pid), time.monotonic()
    term.wait_until(lambda text: MARKER in text, what="the reply's last words", timeout=timeout)
    parsed = time.monotonic()
    arrived = term.matched_frame_arrived or parsed  # type: ignore[attr-defined]
    cpu = process_cpu(app.pid) - cpu0
    last = app.server.last_byte(timeout=30)
    return Reply((arrived - last) * 1000, (parsed - last) * 1000, cpu, parsed - sent,
                 cpu - (cpu1 - cpu0), parsed - started)


def load_tokenizer(app: App) -> None:
    """Type and pause, so the app loads its tokenizer (~0.35 s of CPU, once a session)
    before a reply is measured, not while one streams. The bench's model is not OpenAI's,
    so its counts are calibrated and the tokenizer loads at the first pause in typing (on
    OpenAI's models it would wait for a chat to come near its window, which these, a new
    chat each with a short message, never do)."""
    term = app.term
    term.send("warm up")
    term.wait_for("warm up", timeout=30)
    time.sleep(2.0)  # the app's idle delay before the load, and the load itself
    term.send(b"\x15")  # Ctrl+U: clear the composer again
    term.wait_for(PLACEHOLDER, timeout=30)


def typing_while_streaming(app: App, keys: int,
                           timeout: float) -> list[tuple[float, float]]:
    """Keystroke to echo in the composer while the reply streams: (seconds until the frame
    showing it arrived, until pyte had parsed it) per key."""
    from tests.terminal.harness import clear_field, timed_echo_parsed

    term = app.term
    term.send(b"\x0e")
    term.wait_for(EMPTY_PANE, timeout=30)
    term.send("Tell me everything.\r")
    term.wait_until(lambda text: EMPTY_PANE not in text and PLACEHOLDER in text,
                    what="the reply to start", timeout=30)
    where = term.find(PLACEHOLDER)
    assert where is not None
    y, x = where
    echoes, typed = [], ""
    for i in range(keys):
        if MARKER in term.text():
            break  # the reply ended: only keys typed while it streamed count
        char = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        typed += char
        echoes.append(timed_echo_parsed(term, y, x, char, typed))
        if len(typed) >= 20:
            typed = ""
            clear_field(term, y, x, PLACEHOLDER)
    term.wait_until(lambda text: MARKER in text, what="the reply's end", timeout=timeout)
    app.server.last_byte(timeout=30)
    term.send(b"\x15")
    return echoes


def idle_cpu(app: App, settle: float, span: float) -> float:
    """The app's CPU seconds per second over ``span`` s, ``settle`` s after a reply."""
    one_reply(app, timeout=120)
    time.sleep(settle)
    cpu0 = process_cpu(app.pid)
    time.sleep(span)
    return (process_cpu(app.pid) - cpu0) / span


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    return (f"median {fmt.format(statistics.median(values))} "
            f"(min {fmt.format(min(values))}, max {fmt.format(max(values))})")


def run_rows(binary: Path, rows: set[str], runs: int, size: tuple[int, int], keys: int,
             long: bool, env_for: Callable[[Path, str], dict[str, str]], *,
             lag_rates: list[int] | None = None, lag_cases: list[str] | None = None) -> None:
    # The pty's reader thread waits for the GIL while pyte parses a frame in another: at
    # most this long (Python's default is 5 ms) before a frame's arrival is timed.
    sys.setswitchinterval(0.0005)
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        home = Path(tmp)

        def with_app(text: str, tps: float, body: Callable[[App], None]) -> None:
            server = ServerProcess(text, tps, home)
            app = None
            try:
                app = start_app(binary, server, home, size, env_for)
                body(app)
            finally:
                if app is not None:
                    app.term.close()  # type: ignore[attr-defined]
                server.close()

        print(f"\nstreaming in a {size[0]}x{size[1]} pty, {runs} replies per row, "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        if "lag" in rows:
            cases = [("1k", markdown_text(1000)), ("4k", markdown_text(4000)),
                     ("20k", markdown_text(20000)), ("table", table_text())]
            for tps in lag_rates or (2000, 200):
                for name, text in cases:
                    if lag_cases and name not in lag_cases:
                        continue
                    if name == "20k" and tps == 200 and not long:
                        continue  # 100 s a reply: --long
                    replies: list[Reply] = []
                    with_app(text, tps, lambda app: replies.extend(
                        one_reply(app, timeout=300) for _ in range(runs)))
                    print(f"  lag after the last byte, {name:>5} at {tps:>4} tok/s: "
                          f"{spread([r.lag for r in replies])} ms; parsed by pyte "
                          f"{spread([r.parsed_lag for r in replies])} ms", flush=True)
        if "cpu" in rows:
            for tps, tokens in ((20, 300), (200, 4000), (2000, 4000), (5000, 4000)):
                if lag_rates and tps not in lag_rates:
                    continue
                results: list[Reply] = []
                count = max(1, runs if tps >= 200 else 2)

                def measure(app: App, count: int = count) -> None:
                    load_tokenizer(app)
                    results.extend(one_reply(app, timeout=600) for _ in range(count))

                with_app(markdown_text(tokens), tps, measure)
                per_token = [r.cpu / tokens * 1000 for r in results]
                cores = [r.cpu / r.seconds for r in results]
                streaming = [r.streaming_cpu / r.streaming_seconds for r in results]
                # Without the send and the new blocks' layout (~0.1 s a reply), which a
                # short reply (300 tokens at 20 tok/s) pays per token many times over.
                streaming_per_token = [r.streaming_cpu / tokens * 1000 for r in results]
                print(f"  app CPU at {tps:>4} tok/s ({tokens} tokens, "
                      f"{results[0].seconds:.0f} s): {spread(per_token, '{:.2f}')} ms per token, "
                      f"{spread(cores, '{:.2f}')} cores from Enter; while streaming "
                      f"{spread(streaming, '{:.3f}')} cores, "
                      f"{spread(streaming_per_token, '{:.2f}')} ms per token", flush=True)
        if "typing" in rows:
            echoes: list[tuple[float, float]] = []
            with_app(markdown_text(20000), 2000, lambda app: [
                echoes.extend(typing_while_streaming(app, keys, timeout=120))
                for _ in range(runs)])
            ms = [arrived * 1000 for arrived, _ in echoes]
            parsed = [parsed * 1000 for _, parsed in echoes]

            def p90(values: list[float]) -> float:
                return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]

            print(f"  keystroke to screen while streaming at 2000 tok/s: {spread(ms)} ms, "
                  f"p90 {p90(ms):.0f} ms ({len(ms)} keys); parsed by pyte {spread(parsed)} "
                  f"ms, p90 {p90(parsed):.0f} ms", flush=True)
        if "idle" in rows:
            idle: list[float] = []
            with_app(markdown_text(1000), 2000, lambda app: idle.extend(
                idle_cpu(app, settle=5.0, span=10.0) for _ in range(runs)))
            print(f"  idle CPU over 10 s after a reply: {spread(idle, '{:.4f}')} cores",
                  flush=True)
