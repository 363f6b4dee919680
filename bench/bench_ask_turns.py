"""Issue 8's 200-turn check the way a user scripts it: one `gpt-tui ask --continue` per turn.

    python bench/bench_ask_turns.py --base-url http://127.0.0.1:8080/v1 --model tiny-llama \\
        --turns 200 --strategy summarize

bench_long_run.py drives the chat flow in-process, so what one process learns (the server's
window, its tokenizer, the calibration) stays in memory between turns. Here every turn is a
fresh process of the installed command, as in the original report, so only what the database
keeps carries over. A recording proxy sits between the command and the server and counts the
requests the server refused as too long (chat and summary requests apart).

Prompts are the same as bench_long_run's (tests/long_run.make_prompts). The config, data and
state folders are temporary: your own config does not apply.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_openai.proxy import RecordingProxy  # noqa: E402
from tests.long_run import make_prompts  # noqa: E402
from tui.core.summary_plan import SHORT_INSTRUCTIONS, SUMMARY_INSTRUCTIONS  # noqa: E402


def _is_summary(exchange) -> bool:
    """Summary requests open with the summarizer's own instructions as the system message."""
    first = exchange.messages[0] if exchange.messages else {}
    return (first.get("role") == "system"
            and first.get("content") in (SUMMARY_INSTRUCTIONS, SHORT_INSTRUCTIONS))


def run(args: argparse.Namespace, strategy: str) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="gpt-tui-ask-turns-"))
    root = args.base_url.rstrip("/").removesuffix("/v1")
    hide = ("/tokenize", "/apply-template", "/props", "/slots") if args.hide_tokenizer else ()
    with RecordingProxy(root, hide=hide) as proxy:
        env = dict(os.environ, OPENAI_BASE_URL=proxy.base_url,
                   XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"),
                   XDG_STATE_HOME=str(tmp / "state"), XDG_CACHE_HOME=str(tmp / "cache"),
                   GPT_TUI_DB=str(tmp / "chats.db"))
        env.pop("OPENAI_API_KEY", None)
        codes: dict[int, int] = {}
        failures: list[tuple[int, str]] = []
        seconds: list[float] = []
        for turn, prompt in enumerate(make_prompts(args.turns, seed=args.seed), 1):
            command = [args.gpt_tui, "ask", "--model", args.model, "--strategy", strategy]
            command += ["--continue"] if turn > 1 else []
            started = time.monotonic()
            done = subprocess.run([*command, prompt], env=env, capture_output=True, text=True,
                                  timeout=300)
            seconds.append(time.monotonic() - started)
            codes[done.returncode] = codes.get(done.returncode, 0) + 1
            if done.returncode != 0:
                lines = [line for line in done.stderr.splitlines() if "error" in line.lower()]
                failures.append((turn, (lines or done.stderr.splitlines() or [""])[-1][:160]))
        chats = [e for e in proxy.exchanges if e.is_chat]
        listed = subprocess.run([args.gpt_tui, "windows", "--json"], env=env,
                                capture_output=True, text=True, timeout=60)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        windows = [w for w in json.loads(listed.stdout) if w["model"] == args.model]
    except ValueError:
        windows = []
    learned = (", ".join(f"{w['window']} ({w['source']}"
                         + (f", smallest refused {w['refused']})" if w.get("refused") else ")")
                         for w in windows) or "none")
    summaries = [e for e in chats if _is_summary(e)]
    plain = [e for e in chats if not _is_summary(e)]
    too_long = [turn for turn, line in failures if "the message is too long" in line]
    return {
        "strategy": strategy,
        "turns": args.turns,
        "exit codes": dict(sorted(codes.items())),
        "failed turns (not counting messages too long on their own)":
            len(failures) - len(too_long),
        "messages refused as too long on their own": len(too_long),
        "chat requests refused by the server": f"{sum(e.too_long for e in plain)} of {len(plain)}",
        "summary requests refused by the server":
            f"{sum(e.too_long for e in summaries)} of {len(summaries)}",
        "window learned at the end": learned,
        "seconds per turn (median, max)":
            f"{statistics.median(seconds):.2f}, {max(seconds):.2f}",
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the server's OpenAI base URL (…/v1)")
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--strategy", action="append", choices=["summarize", "truncate", "off"],
                        help="repeatable (default: summarize and truncate)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--hide-tokenizer", action="store_true",
                        help="answer 404 for /tokenize, /apply-template and /props, as servers "
                             "without them do: counts are then calibrated estimates and the "
                             "window is learned from the first overflow")
    parser.add_argument("--gpt-tui", default=shutil.which("gpt-tui")
                        or str(Path(sys.executable).parent / "gpt-tui"),
                        help="the command to run (default: the installed gpt-tui)")
    args = parser.parse_args(argv)
    for strategy in args.strategy or ["summarize", "truncate"]:
        figures = run(args, strategy)
        failures = figures.pop("failures")
        for name, value in figures.items():
            print(f"  {name:<58} {value}")
        for turn, line in failures[:20]:
            print(f"    turn {turn}: {line}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
