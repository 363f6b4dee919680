"""Start-up benchmark: what a user waits for before each command is usable, as a user runs it.

Every figure is the installed console script in its own process (cold interpreter, every
import), against the test server (tests/fake_openai) on 127.0.0.1:

* ``launch``     the full-screen app on a real pseudo-terminal (tests/terminal/harness.py, pyte
                 as the screen), spawn until the first whole frame that shows the usable main
                 screen: the model in the status line and the empty composer;
* ``launch cpu`` the app's CPU seconds (user + system, /proc) at that frame;
* ``rss``        the app's resident memory once start-up has settled (its CPU use stopped
                 growing for ``SETTLE`` s after the main screen: the background SDK import is
                 in), at the first frame, after one key typed and settled again, after
                 that key sent and its reply shown, and after a 5 KB paste that brings the
                 chat near its window, where the token encoding (~50 MB) loads once typing
                 pauses (the chat is gpt-4's, ``APP_MODEL``);
* ``--version``, ``list``, ``ask``   the whole process, spawn to exit (``ask`` includes the
                 five requests to the test server: the model list, its window and tokenizer
                 probes, and the chat, answered at once; the title is made locally);
* ``list | head -1`` on a store of ``--big`` conversations: until ``list`` has exited.

``--bytecode cached`` (the default) lets the children write and reuse ``.pyc`` files, as an
installed copy does (pip compiles them at install): they go to a cache folder of this run
(``PYTHONPYCACHEPREFIX``, so no checkout is written to), filled by one unmeasured round
first. ``--bytecode env`` keeps the environment's setting: with
``PYTHONDONTWRITEBYTECODE=1`` every start compiles every module of the app from source
(~0.1 s of CPU, more for a bigger app), which no installed copy does.

Median and spread (min-max) over ``--runs`` runs (at least 5 for the record). ``--imports``
adds ``python -X importtime`` per command: the modules with the largest cumulative time.
``--bin`` measures another build (e.g. a worktree of an older commit with its own venv), so
"before" and "after" can be taken back to back on the same machine:

    python bench/bench_startup.py [--runs 5] [--imports] [--instructions]
                                  [--bin /tmp/old/.venv/bin/gpt-tui]

``--instructions`` counts each command's instructions under ``valgrind --tool=callgrind``
(a minute or two): the same count on a quiet or a busy machine, for an A/B of start-up work
where wall and CPU times move by ±20% from run to run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_terminal import child_env as terminal_env, process_cpu, seed  # noqa: E402
from tests.fake_openai.scripts import Script  # noqa: E402
from tests.fake_openai.server import FakeOpenAI  # noqa: E402
from tests.terminal.harness import CTRL_Q, Terminal, installed_gpt_tui  # noqa: E402

MODEL = "bench-model"
# The app's chat: an OpenAI model with a small window (its counts need no calibration, so
# the encoding waits for the window to come near; a model not OpenAI's, on a server that
# does not count, loads it once typing first pauses).
APP_MODEL = "gpt-4"
PLACEHOLDER = "Message…"
SETTLE = 0.5  # seconds without CPU growth that count as "start-up is over"
SETTLE_LIMIT = 15.0
REPLY = "A short answer."
NEAR_PASTE = "a line of words, as pasted from a log file\n" * 120  # 5 KB
TARGETS = {"launch": 0.5, "rss": 80.0, "--version": 0.15, "list": 0.2, "ask": 0.3}


def script_python(binary: Path) -> str:
    """The interpreter a console script (or a wrapper like it) names on its first line."""
    first = binary.read_text(encoding="utf-8").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else sys.executable


# Imports the app as the script would, then what the app draws its first frame with: the
# script's own imports run (a wrapper's sys.path set-up too), its main does not.
APP_IMPORT = ("import sys; path = sys.argv.pop(1); "
              "exec(compile(open(path).read(), path, 'exec'), {'__name__': 'bench'}); "
              "import tui.ui.app")


def instruction_report(binary: Path, home: Path, db: Path, base_url: str) -> None:
    """Instructions each command executes, counted by ``valgrind --tool=callgrind``: the
    same total for the same build and inputs however busy the machine is, so an A/B of
    start-up work (``--bin``) needs no quiet machine. Whole processes, interpreter
    included; ``ask`` includes its requests to the test server (answered at once)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("\n--instructions: valgrind is not installed", file=sys.stderr)
        return
    python = script_python(binary)
    env = child_env(home, base_url)
    env["GPT_TUI_DB"] = str(db)
    commands = {
        "--version": [str(binary), "--version"],
        "list": [str(binary), "list"],
        "ask": [str(binary), "ask", "--model", MODEL, "a short question"],
        "app, imports before its first frame": ["-c", APP_IMPORT, str(binary)],
    }
    print(f"\ninstructions (valgrind --tool=callgrind), {binary}")
    for name, args in commands.items():
        result = subprocess.run(
            [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", python, *args],
            env=env, cwd=home, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            timeout=600)
        counted = [line.rsplit(":", 1)[1].strip() for line in result.stderr.splitlines()
                   if "Collected :" in line]
        if result.returncode != 0 or not counted:
            print(f"  {name:<38} failed (exit {result.returncode})")
            continue
        print(f"  {name:<38} {int(counted[-1]) / 1e9:.3f} G")


# How the children treat bytecode (--bytecode): {} leaves the environment as it is.
BYTECODE_ENV: dict[str, str | None] = {}


def child_env(home: Path, base_url: str) -> dict[str, str]:
    """The terminal harness's environment, with this run's bytecode setting."""
    env = terminal_env(home, base_url, cached_bytecode=False)  # --bytecode decides
    for name, value in BYTECODE_ENV.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def settle(pid: int, quiet: float = SETTLE) -> None:
    """Wait until the process's CPU time stops growing for ``quiet`` seconds (background
    start-up work done)."""
    deadline = time.monotonic() + SETTLE_LIMIT
    last = process_cpu(pid)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = process_cpu(pid)
        if now is None:
            return
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return


def launch_run(binary: Path, home: Path, seeded: Path, server: FakeOpenAI) -> dict[str, float]:
    base_url = server.base_url
    # A fresh copy per run: the key typed below is kept as a draft, and would show next time.
    db = home / "launch.db"
    for stale in home.glob("launch.db*"):
        stale.unlink()
    shutil.copyfile(seeded, db)
    term = Terminal([str(binary), "--db", str(db), "--model", APP_MODEL],
                    env=child_env(home, base_url), cwd=home, size=(100, 30))
    try:
        term.wait_until(lambda text: PLACEHOLDER in text
                        and any(APP_MODEL in row for row in term.rows()[-3:]),
                        what="the usable main screen", timeout=60)
        ready = time.monotonic() - term.started
        pid = term.process.pid
        cpu, first_rss = process_cpu(pid), rss_mb(pid)
        settle(pid)
        settled_rss = rss_mb(pid)
        # A pause in typing would load the token encoding (0.5 s after the last key, see
        # tui/ui/context_tracker.py) if the chat were near its window: wait out more than
        # that. A key leaves it far.
        term.send("x")
        term.wait_until(lambda _: PLACEHOLDER not in term.text(), what="the echo", timeout=30)
        settle(pid, quiet=1.5)
        typed_rss = rss_mb(pid)
        # Sent: the message and its reply stored, drawn, the chat metered.
        server.script(Script.reply(REPLY))
        term.send("\r")
        term.wait_until(lambda text: REPLY in text and "streaming" not in text,
                        what="the reply", timeout=30)
        settle(pid, quiet=1.5)
        replied_rss = rss_mb(pid)
        # A paste that brings the chat near its window (gpt-4's 8k: a prompt budget of
        # ~6,000 tokens, near from ~3 KB): the encoding loads.
        term.send(f"\x1b[200~{NEAR_PASTE}\x1b[201~")
        term.wait_until(lambda _: PLACEHOLDER not in term.text(), what="the paste", timeout=30)
        settle(pid, quiet=1.5)
        near_rss = rss_mb(pid)
        term.send(CTRL_Q)
        term.wait_exit(30)
    finally:
        term.close()
    return {"launch": ready, "launch cpu": cpu or 0.0, "rss at first frame": first_rss or 0.0,
            "rss": settled_rss or 0.0, "rss after typing": typed_rss or 0.0,
            "rss after a reply": replied_rss or 0.0,
            "rss near the window (encoding in)": near_rss or 0.0}


def timed(argv: list[str], env: dict[str, str], cwd: Path, *,
          shell: bool = False) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + system of the process and its children: on a
    busy machine the wall time mostly measures the wait for a core)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(argv if not shell else " ".join(argv), env=env, cwd=cwd,
                            shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, timeout=120)
    took = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): "
                         f"{result.stderr.decode(errors='replace')[-500:]}")
    return took, cpu


def seed_big(db: Path, count: int) -> None:
    """``count`` conversations with one message each, inserted in one transaction."""
    from tui.core import ids
    from tui.core.store import Store

    store = Store(db)
    conn = store.conn
    conn.execute("BEGIN")
    for i in range(count):
        stamp = f"2026-01-01T00:00:{i % 60:02d}.{i % 1000:03d}Z"
        cid = ids.new_ulid()
        conn.execute("INSERT INTO conversations (id, title, model, created, updated) "
                     "VALUES (?,?,?,?,?)", (cid, f"Conversation number {i}", MODEL, stamp,
                                            stamp))
        conn.execute("INSERT INTO messages (id, conversation_id, role, content, created, "
                     "status) VALUES (?,?,'user',?,?,'complete')",
                     (ids.new_ulid(), cid, f"question {i}", stamp))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def command_runs(binary: Path, home: Path, db: Path, big: Path,
                 server: FakeOpenAI) -> dict[str, float]:
    env = child_env(home, server.base_url)
    env["GPT_TUI_DB"] = str(db)
    server.script(Script.reply(REPLY))
    commands = {
        "--version": timed([str(binary), "--version"], env, home),
        "list": timed([str(binary), "list"], env, home),
        "ask": timed([str(binary), "ask", "--model", MODEL, "a short question"], env, home),
        "list | head -1 (big store)": timed(
            [str(binary), "--db", str(big), "list", "|", "head", "-1"], env, home, shell=True),
    }
    figures = {}
    for name, (wall, cpu) in commands.items():
        figures[name], figures[f"{name} cpu"] = wall, cpu
    return figures


def spread(values: list[float], fmt: str) -> str:
    return (f"median {fmt.format(statistics.median(values))}  min {fmt.format(min(values))}"
            f"  max {fmt.format(max(values))}")


def import_report(python: Path, home: Path, db: Path, base_url: str, top: int,
                  runs: int = 3) -> None:
    """``python -X importtime`` for each command: the largest cumulative times, each the
    best of ``runs`` (one run on a busy machine is mostly noise)."""
    env = child_env(home, base_url)
    env["GPT_TUI_DB"] = str(db)
    commands = {
        "--version": ["-m", "tui", "--version"],
        "list": ["-m", "tui", "list"],
        "ask": ["-m", "tui", "ask", "--model", MODEL, "a short question"],
        "app (before its first frame: tui.ui.app)": ["-c", "import tui.cli, tui.ui.app"],
    }
    for name, args in commands.items():
        best: dict[str, int] = {}
        totals, counts = [], []
        for _ in range(runs):
            result = subprocess.run([str(python), "-X", "importtime", *args], env=env,
                                    cwd=home, capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL, timeout=120)
            total = modules = 0
            for line in result.stderr.splitlines():
                if not line.startswith("import time:") or "cumulative" in line:
                    continue
                _, cumulative, module = line[len("import time:"):].split("|")
                modules += 1
                if not module.startswith("  "):  # top level: the sum is the whole import
                    total += int(cumulative)
                key = module.rstrip()
                best[key] = min(best.get(key, 1 << 62), int(cumulative))
            totals.append(total)
            counts.append(modules)
        print(f"\n{name}: {max(counts)} modules, {min(totals) / 1000:.0f} ms of imports "
              f"(python -X importtime, best of {runs})")
        for module, cumulative in sorted(best.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {cumulative / 1000:7.1f} ms  {module.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="0: only --imports")
    parser.add_argument("--bin", type=Path, default=None,
                        help="the gpt-tui script to measure (default: this environment's)")
    parser.add_argument("--big", type=int, default=10_000,
                        help="conversations in the store for `list | head -1`")
    parser.add_argument("--bytecode", choices=["cached", "env"], default="cached",
                        help="cached: .pyc files written once and reused, as installed "
                             "(default); env: as the environment says")
    parser.add_argument("--imports", action="store_true",
                        help="also print python -X importtime figures per command")
    parser.add_argument("--top", type=int, default=12, help="modules shown per command")
    parser.add_argument("--import-runs", type=int, default=3,
                        help="--imports: best of this many runs per command")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions (valgrind): an A/B "
                             "that machine noise does not move")
    args = parser.parse_args(argv)
    binary = (args.bin or installed_gpt_tui()).absolute()
    if not binary.exists():
        print(f"no gpt-tui at {binary}: pip install -e '.[test]'", file=sys.stderr)
        return 1
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, FakeOpenAI() as server:
        home = Path(tmp)
        db, big = home / "chats.db", home / "big.db"
        seed(db)
        seed_big(big, args.big)
        if args.bytecode == "cached":
            BYTECODE_ENV.update(PYTHONDONTWRITEBYTECODE=None,
                                PYTHONPYCACHEPREFIX=str(home / "pycache"))
            if args.runs or args.instructions:  # fills the cache: every module measured
                launch_run(binary, home, db, server)
                command_runs(binary, home, db, big, server)
        for i in range(args.runs):
            run = launch_run(binary, home, db, server)
            run |= command_runs(binary, home, db, big, server)
            for name, value in run.items():
                results.setdefault(name, []).append(value)
            print(f"run {i + 1}: " + "  ".join(
                f"{name} {value:.0f} MB" if "rss" in name else f"{name} {value:.3f} s"
                for name, value in run.items()), flush=True)
        print(f"\n{binary}\n{args.runs} runs, {os.cpu_count()} CPUs, load "
              f"{os.getloadavg()[0]:.1f}, bytecode {args.bytecode}")  # wall times suffer
        for name, values in results.items():
            unit, fmt = ("MB", "{:.0f}") if "rss" in name else ("s", "{:.3f}")
            target = TARGETS.get(name)
            goal = f"  (target ≤ {target:g} {unit})" if target else ""
            print(f"  {name:<28} {spread(values, fmt)} {unit}{goal}")
        if args.instructions:
            instruction_report(binary, home, db, server.base_url)
        if args.imports:
            import_report(binary.parent / "python", home, db, server.base_url, args.top,
                          args.import_runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
