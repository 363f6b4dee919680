"""Hunt for replies whose end never shows: many streamed replies in a pty, each checked.

A stall seen twice in ~170 replies (a reply's display stopped where a code fence opened; the
rest was received and stored but never shown) is too rare for the test suite. This runs the
installed ``gpt-tui`` (``bench/terminal_streaming.py``'s harness) against the test server:
``--apps`` fresh apps, ``--replies`` replies each (Ctrl+N, a prompt, until the reply's last
words are on screen). A reply not shown within ``--timeout`` seconds is a stall: its screen
and the app's log are printed and that app is left.

    python bench/bench_stalls.py [--apps 30] [--replies 3] [--tokens 4000] [--tps 2000]

``GPT_TUI_TERMINAL_BIN`` runs another build or a wrapper (a debugging one, say).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_terminal import child_env, installed_gpt_tui  # noqa: E402
from bench.terminal_streaming import (  # noqa: E402
    ServerProcess,
    markdown_text,
    one_reply,
    start_app,
)
from tests.terminal.harness import TerminalTimeout  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=30)
    parser.add_argument("--replies", type=int, default=3, help="replies per app")
    parser.add_argument("--tokens", type=int, default=4000, help="tokens per reply")
    parser.add_argument("--tps", type=float, default=2000)
    parser.add_argument("--timeout", type=float, default=20, help="seconds for a reply")
    args = parser.parse_args(argv)
    binary = installed_gpt_tui()
    stalls = replies = 0
    with tempfile.TemporaryDirectory(prefix="bench-stalls-") as tmp:
        home = Path(tmp)
        server = ServerProcess(markdown_text(args.tokens), args.tps, home)
        try:
            for number in range(args.apps):
                before = set(home.iterdir())
                app = start_app(binary, server, home, (120, 40), child_env)
                folder = next(iter(set(home.iterdir()) - before), home)
                try:
                    for _ in range(args.replies):
                        replies += 1
                        try:
                            one_reply(app, timeout=args.timeout)
                        except TerminalTimeout as stall:
                            stalls += 1
                            print(f"stall: app {number + 1}, reply {replies}\n{stall}")
                            for log in folder.rglob("*.log"):
                                print(f"log {log}:\n{log.read_text()[-4000:]}")
                            break
                finally:
                    app.term.close()  # type: ignore[attr-defined]
        finally:
            server.close()
    print(f"{stalls} stalls in {replies} replies ({args.apps} apps, {args.tokens} tokens "
          f"at {args.tps:g} tok/s)")
    return 1 if stalls else 0


if __name__ == "__main__":
    sys.exit(main())
