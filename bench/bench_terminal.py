"""Terminal benchmark: the installed ``gpt-tui`` in a real pseudo-terminal, as a user runs it.

``bench_app.py`` measures the app inside an already warm interpreter (``run_test``): it
leaves out the interpreter's start, every import and the terminal. This one spawns the
console script on a pty (pyte as the screen, tests/terminal/harness.py) against the test
server, with a few conversations in a fresh database, and prints per run:

* ``first output``  spawn to the app's first byte on the tty: interpreter, imports, settings,
                    database and services, up to Textual's driver starting;
* ``first frame``   spawn to the first full frame: the status line shows the model;
* ``cpu``           the app process's CPU seconds (user + system) at that first frame, from
                    /proc (Linux): what start-up costs, much less disturbed by other load
                    than the wall times on a busy machine;
* ``echo``          a key written to the pty until the composer shows it (each key waits for
                    the previous one's echo), over ``--keys`` keys;
* ``quit``          Ctrl+Q until the process has exited.

Then the median and the spread (min-max) over ``--runs`` runs. ``--imports`` adds where the
import time goes (``python -X importtime``, top-level packages by cumulative time).

    python bench/bench_terminal.py [--runs 5] [--keys 30] [--size 100x30] [--imports]
                                   [--rows startup,lag,cpu,typing,idle] [--stream-size 120x40]
                                   [--long] [--tps 2000,200] [--cases 1k,4k,20k,table]

``--rows`` picks the rows (default: start-up only); the streaming rows (lag after the last
byte, CPU per token, typing while a reply streams, idle CPU) are described in
``bench/terminal_streaming.py``; ``--long`` adds the 20k-token reply at 200 tok/s (100 s each);
``--tps`` narrows the lag and cpu rows, ``--cases`` the lag rows (an A/B of one rate, say).
"""

from __future__ import annotations

import argparse
import os
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_openai.server import FakeOpenAI  # noqa: E402
from tests.terminal.harness import (  # noqa: E402
    CTRL_Q,
    Terminal,
    clear_field,
    installed_gpt_tui,
    timed_echo,
)

MODEL = "bench-model"
PLACEHOLDER = "Message…"
DROP_ENV = ("OPENAI_", "GPT_TUI_", "TEXTUAL", "COLUMNS", "LINES")


def seed(db: Path, conversations: int = 20) -> None:
    from tui.core.models import Role
    from tui.core.store import Store

    with Store(db) as store:
        for i in range(conversations):
            chat = store.create_conversation(model=MODEL, title=f"Conversation {i}")
            for turn in range(5):
                store.append_message(chat.id, Role.USER, f"question {turn}")
                store.append_message(chat.id, Role.ASSISTANT, f"answer {turn} " * 20,
                                     model=MODEL)


PYCACHE = Path(tempfile.gettempdir()) / f"gpt-tui-bench-pycache-{os.getuid()}"
"""Where the children write and reuse their ``.pyc`` files, as an installed copy does (pip
compiles them at install): with ``PYTHONDONTWRITEBYTECODE=1`` in the environment, every
start compiled the app's ~135 modules from source (~0.12 s of the first frame's ~0.5 s,
which no installed copy pays). A folder of its own, so no checkout is written to; the
first start fills it (``main`` starts one unmeasured)."""


def child_env(home: Path, base_url: str, *, cached_bytecode: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP_ENV)}
    if cached_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               OPENAI_BASE_URL=base_url)
    return env


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(binary: Path, base_url: str, size: tuple[int, int], keys: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-terminal-") as tmp:
        home = Path(tmp)
        db = home / "chats.db"
        seed(db)
        term = Terminal([str(binary), "--db", str(db), "--model", MODEL],
                        env=child_env(home, base_url), cwd=home, size=size)
        try:
            term.wait_until(lambda _: any(MODEL in row for row in term.rows()[-3:]),
                            what="the status line", timeout=60)
            ready = time.monotonic()
            cpu = process_cpu(term.process.pid)
            screen = term.wait_for(PLACEHOLDER, timeout=30)
            y, x = term.find(PLACEHOLDER)
            typed, echoes = "", []
            for i in range(keys):
                char = string.ascii_lowercase[i % 26]
                typed += char
                echoes.append(timed_echo(term, y, x, char, typed))
                if len(typed) >= 24:  # stay on one line of the composer
                    typed = ""
                    clear_field(term, y, x, PLACEHOLDER)
            del screen
            quit_sent = time.monotonic()
            term.send(CTRL_Q)
            term.wait_exit(30)
            quit_time = time.monotonic() - quit_sent
        finally:
            term.close()
        assert term.first_output is not None
        return {"first output": term.first_output - term.started,
                "first frame": ready - term.started, "cpu": cpu, "echo": echoes,
                "quit": quit_time}


def spread(values: list[float], unit: float = 1.0, fmt: str = "{:.2f}") -> str:
    scaled = [v * unit for v in values]
    return (f"median {fmt.format(statistics.median(scaled))}  "
            f"min {fmt.format(min(scaled))}  max {fmt.format(max(scaled))}")


def import_costs(top: int = 12, runs: int = 3) -> None:
    """Import time per top-level package (its modules' own time, best of ``runs``)."""
    best: dict[str, int] = {}
    totals = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import tui.cli, tui.ui.app"],
            capture_output=True, text=True, cwd=ROOT, check=True)
        per_package: dict[str, int] = {}
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            own, _, name = line[len("import time:"):].split("|")
            package = name.strip().split(".")[0]
            per_package[package] = per_package.get(package, 0) + int(own)
        totals.append(sum(per_package.values()))
        for package, micros in per_package.items():
            best[package] = min(best.get(package, 1 << 62), micros)
    print(f"\nimports (python -X importtime, own time per package, best of {runs}; "
          f"all: {min(totals) / 1000:.0f} ms)")
    for name, micros in sorted(best.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {micros / 1000:7.1f} ms  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=30, help="keystrokes per run (echo)")
    parser.add_argument("--size", default="100x30", help="terminal COLUMNSxLINES")
    parser.add_argument("--imports", action="store_true", help="also show import costs")
    parser.add_argument("--rows", default="startup",
                        help="comma-separated: startup, lag, cpu, typing, idle (or all)")
    parser.add_argument("--stream-size", default="120x40", help="pty size of the streaming rows")
    parser.add_argument("--long", action="store_true",
                        help="also the 20k-token reply at 200 tok/s (100 s a reply)")
    parser.add_argument("--tps", default="",
                        help="comma-separated token rates of the lag and cpu rows "
                             "(default: 2000,200 for lag; 20,200,2000,5000 for cpu)")
    parser.add_argument("--cases", default="1k,4k,20k,table",
                        help="comma-separated replies of the lag rows")
    args = parser.parse_args(argv)
    rows = {"startup", "lag", "cpu", "typing", "idle"} if args.rows == "all" else set(
        args.rows.split(","))
    columns, lines = (int(n) for n in args.size.lower().split("x"))
    binary = installed_gpt_tui()
    if not binary.exists():
        print(f"no gpt-tui next to {sys.executable}: pip install -e '.[test]'", file=sys.stderr)
        return 1
    print(f"machine speed: a 10^7-step list comprehension takes {loop_seconds():.2f} s (CPU and lag "
          f"figures scale with it; compare runs of one hour, or interleaved)", flush=True)
    if "startup" in rows:
        with FakeOpenAI() as server:  # fills PYCACHE: every start measured reuses it
            one_run(binary, server.base_url, (columns, lines), 1)
        startup(binary, args, (columns, lines))
    streaming = rows - {"startup"}
    if streaming:
        from bench.terminal_streaming import run_rows

        stream_size = tuple(int(n) for n in args.stream_size.lower().split("x"))
        run_rows(binary, streaming, args.runs, stream_size, args.keys,  # type: ignore[arg-type]
                 args.long, child_env, lag_rates=[int(n) for n in args.tps.split(",") if n],
                 lag_cases=args.cases.split(","))
    return 0


def loop_seconds(runs: int = 3) -> float:
    """The best of ``runs`` timings of a plain Python loop: how fast this machine is now (the
    same box varied by a factor of 1.7 from one hour to the next)."""
    def once() -> float:
        started = time.perf_counter()
        [i for i in range(10_000_000)]
        return time.perf_counter() - started
    return min(once() for _ in range(runs))


def startup(binary: Path, args: argparse.Namespace, size: tuple[int, int]) -> None:
    columns, lines = size
    runs = []
    with FakeOpenAI() as server:
        for i in range(args.runs):
            run = one_run(binary, server.base_url, (columns, lines), args.keys)
            runs.append(run)
            echo = run["echo"]
            cpu = "" if run["cpu"] is None else f" (cpu {run['cpu']:.2f} s)"
            print(f"run {i + 1}: first output {run['first output']:.2f} s  first frame "
                  f"{run['first frame']:.2f} s{cpu}  echo median "
                  f"{statistics.median(echo) * 1000:.0f} ms (max {max(echo) * 1000:.0f})  "
                  f"quit {run['quit']:.2f} s", flush=True)
    echoes = [e for run in runs for e in run["echo"]]
    print(f"\n{args.runs} runs at {columns}x{lines}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"  first output  {spread([r['first output'] for r in runs])} s")
    print(f"  first frame   {spread([r['first frame'] for r in runs])} s")
    if all(r["cpu"] is not None for r in runs):
        print(f"  cpu to frame  {spread([r['cpu'] for r in runs])} s")
    print(f"  echo          {spread(echoes, 1000, '{:.0f}')} ms "
          f"(p90 {statistics.quantiles(echoes, n=10)[-1] * 1000:.0f} ms, {len(echoes)} keys)")
    print(f"  quit          {spread([r['quit'] for r in runs])} s")
    if args.imports:
        import_costs()


if __name__ == "__main__":
    raise SystemExit(main())
