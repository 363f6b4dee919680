"""Where the app's CPU goes while a reply streams: a census of its event loop, in a pty.

``bench_terminal.py --rows cpu`` says how much CPU a streamed token costs; this says what it
is spent on. The installed ``gpt-tui`` runs on a pty (tests/terminal/harness.py) against
the test server streaming a long Markdown reply at ``--tps``, with ``bench/census_hook`` on
its ``PYTHONPATH``: that hook times every callback the event loop runs, every screen update
(a layout of the screen, or a repaint of what changed) and every redraw of the reply. After
``--settle`` seconds of streaming (the cursor has stopped blinking, the reply fills the
pane) it takes ``--span`` seconds and prints, per second of streaming:

* the main thread's CPU (from /proc, so the hook's own thread is left out) and the other
  threads';
* event-loop turns, screen layouts and repaints, reply redraws: how many, and the CPU each;
* the callbacks that took the most CPU.

    python bench/bench_loop_census.py [--tps 20] [--tokens 3000] [--settle 25] [--span 30]

The hook adds a few microseconds a callback; compare censuses with each other, and the
totals with ``bench_terminal.py``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import terminal_streaming as streaming  # noqa: E402
from bench_terminal import child_env  # noqa: E402

from tests.terminal.harness import installed_gpt_tui  # noqa: E402

HOOK = ROOT / "bench" / "census_hook"


def thread_ticks(pid: int) -> dict[int, int]:
    """User + system clock ticks of each thread of ``pid`` so far."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(tid)] = int(fields[11]) + int(fields[12])
    return ticks


def read_census(path: Path, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def census(tps: float, tokens: int, settle: float, span: float, size: tuple[int, int]) -> None:
    binary = installed_gpt_tui()
    with tempfile.TemporaryDirectory(prefix="bench-census-") as tmp:
        home = Path(tmp)
        out = home / "census.json"

        def env_for(folder: Path, base_url: str) -> dict[str, str]:
            env = child_env(folder, base_url)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HOOK),
                                                              env.get("PYTHONPATH")]))
            env["GPT_TUI_CENSUS"] = str(out)
            return env

        server = streaming.ServerProcess(streaming.markdown_text(tokens), tps, home)
        app = None
        try:
            app = streaming.start_app(binary, server, home, size, env_for)
            streaming.load_tokenizer(app)
            term = app.term
            streaming.type_in_new_chat(app)
            term.send("\r")
            term.wait_for(streaming.STREAMING, timeout=60)
            time.sleep(settle)
            main_tid = app.pid
            first, ticks_before = read_census(out), thread_ticks(app.pid)
            time.sleep(span)
            last, ticks_after = read_census(out), thread_ticks(app.pid)
            if streaming.MARKER in term.text():  # type: ignore[attr-defined]
                print("note: the reply ended within the span; use more --tokens")
        finally:
            if app is not None:
                app.term.close()  # type: ignore[attr-defined]
            server.close()
    report(first, last, ticks_before, ticks_after, main_tid, tps)


def report(first: dict, last: dict, ticks_before: dict[int, int], ticks_after: dict[int, int],
           main_tid: int, tps: float) -> None:
    seconds = last["time"] - first["time"]
    hertz = os.sysconf("SC_CLK_TCK")

    def per_second(key: str) -> float:
        return (last[key] - first[key]) / seconds

    main = (ticks_after.get(main_tid, 0) - ticks_before.get(main_tid, 0)) / hertz / seconds
    others = sum(after - ticks_before.get(tid, 0) for tid, after in ticks_after.items()
                 if tid != main_tid) / hertz / seconds
    print(f"census over {seconds:.1f} s of a reply streaming at {tps:g} tok/s, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"  main thread {main * 1000:.1f} ms/s ({main * 1000 / tps:.2f} ms a token); "
          f"other threads {others * 1000:.1f} ms/s (the census's own writer among them)")
    print(f"  event-loop turns {per_second('turns'):.1f}/s")
    for kind, label in (("layout", "screen layouts"), ("paint", "screen repaints"),
                        ("flush", "reply redraws")):
        count = last[kind] - first[kind]
        cpu = last[kind + "_cpu"] - first[kind + "_cpu"]
        each = cpu / count * 1000 if count else 0.0
        print(f"  {label:<16} {count / seconds:5.2f}/s, {each:5.2f} ms each, "
              f"{cpu / seconds * 1000:5.1f} ms/s")
    rows = []
    for name, (count, cpu) in last["callbacks"].items():
        count0, cpu0 = first["callbacks"].get(name, (0, 0.0))
        if count > count0:
            rows.append(((cpu - cpu0) / seconds * 1000, (count - count0) / seconds, name))
    print("  callbacks by CPU (ms/s, runs/s, ms a run):")
    for ms, runs, name in sorted(rows, reverse=True)[:12]:
        print(f"    {ms:6.2f} {runs:6.1f} {ms / runs:6.2f}  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tps", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument("--settle", type=float, default=25.0,
                        help="seconds of streaming before the census starts")
    parser.add_argument("--span", type=float, default=30.0)
    parser.add_argument("--size", default="120x40", help="terminal COLUMNSxLINES")
    args = parser.parse_args(argv)
    columns, lines = (int(part) for part in args.size.split("x"))
    census(args.tps, args.tokens, args.settle, args.span, (columns, lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
