"""Issue 8's 200-turn check against any OpenAI-compatible server.

    python bench/bench_long_run.py --base-url http://127.0.0.1:8080/v1 --model tiny-llama \\
        --turns 200 --strategy summarize
    python bench/bench_long_run.py --fake --strategy summarize --strategy truncate

Drives one conversation per strategy through gpt-tui's chat flow (in-process, as the app and
``gpt-tui ask`` do) with deterministic prompts of 20–120 words and every 25th of about 300,
and prints: failed turns, turns whose message cannot fit the window at all, requests the
server refused as too long (chat and summary), summary replies cut, and the planner's count
error after turns 1, 5, 20 and 100. ``--fake`` starts the test server playing a small
llama-server (foreign tokenizer, ``--fake-flavor`` llama.cpp by default, ``--ctx`` window,
misbehaving summaries) instead of using ``--base-url``. The settings, data and cache
folders are temporary (your config does not apply); the database is a temporary file
unless ``--db`` names one (one file per strategy: NAME-summarize.db, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

from tests.fake_openai import FakeOpenAI  # noqa: E402
from tests.fake_openai.flavors import OVERFLOW_ERRORS  # noqa: E402
from tests.long_run import make_prompts, run_long_conversation, short_reply  # noqa: E402

FAKE_SUMMARY_REPLIES = ["short", "short", "long", "short", "cut"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="the server's OpenAI base URL (…/v1)")
    where.add_argument("--fake", action="store_true",
                       help="use the test server playing a small llama-server")
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--strategy", action="append", choices=["summarize", "truncate", "off"],
                        help="repeatable (default: summarize and truncate)")
    parser.add_argument("--db", type=Path, default=None,
                        help="keep the conversation in this database (default: a temp file)")
    parser.add_argument("--ctx", type=int, default=512, help="the fake server's window")
    parser.add_argument("--fake-flavor", choices=["llamacpp", "vllm", "openai", "ollama", "lmstudio"],
                        default="llamacpp",
                        help="the server the fake plays (openai: no /tokenize, OpenAI's "
                             "overflow error: the client can only estimate; ollama: no "
                             "/tokenize, and a prompt over the window is cut silently)")
    parser.add_argument("--fake-overflow", choices=OVERFLOW_ERRORS, default=None,
                        help="the fake's refusal of a prompt over its window, in another "
                             "server's words (anthropic, gemini, tgi, bedrock: no numbers…; "
                             "default: the flavor's own)")
    parser.add_argument("--window", type=int, default=None,
                        help="the server's window when it does not report one")
    parser.add_argument("--system-prompt", default="")
    parser.add_argument("--deferred-encoding", action="store_true",
                        help="the token encoding waits until a request nears the window, as "
                             "the app's does when every message is sent before typing pauses")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--long-words", type=int, default=300,
                        help="size of every 25th prompt, in words")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "sk-long-run"))
    parser.add_argument("--turn-log", action="store_true",
                        help="also print one line per turn")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    prompts = make_prompts(args.turns, seed=args.seed, long_words=args.long_words)
    for strategy in args.strategy or ["summarize", "truncate"]:
        server = None
        base_url = args.base_url
        if args.fake:
            server = FakeOpenAI(tokenizer="foreign", flavor=args.fake_flavor,
                                context_window=args.ctx, overflow_error=args.fake_overflow,
                                models=[args.model], reply=short_reply,
                                summary_replies=FAKE_SUMMARY_REPLIES).start()
            base_url = server.base_url
        db = args.db.with_name(f"{args.db.stem}-{strategy}{args.db.suffix}") if args.db else None
        started = time.monotonic()
        try:
            figures = await run_long_conversation(
                base_url, model=args.model, strategy=strategy, turns=args.turns, db_path=db,
                api_key=args.api_key, system_prompt=args.system_prompt, window=args.window,
                prompts=prompts, fake=server, deferred_encoding=args.deferred_encoding)
        finally:
            if server is not None:
                server.stop()
        print(figures.table())
        print(f"  {'wall time':<38}  {time.monotonic() - started:.1f} s\n", flush=True)
        if args.turn_log:
            for turn in figures.turns:
                print(f"    {turn}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-long-run-") as home:
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[name] = str(Path(home) / name.lower())
        for name in ("OPENAI_BASE_URL", "GPT_TUI_DB", "GPT_TUI_MODEL"):
            os.environ.pop(name, None)
        return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
