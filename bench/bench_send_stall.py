"""How long a send holds the event loop in a long chat: the longest gap between ticks of a
20 ms timer on the loop while ``ChatFlow.send`` stores the message, plans the request
(reading and counting the whole history, summarizing when it does not fit) and streams a
short reply from the test server.

The app's screen runs on that loop: a gap is a frame not drawn and keys not echoed. Each
chat is bulk loaded (one path of ``--messages`` messages of ~300 characters each), then sent
to ``--runs`` times; the first send of a chat counts its messages (bulk-loaded rows have no
stored counts), later ones reuse the counts, as in the app after a first send.

    python bench/bench_send_stall.py [--messages 200,2000,10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_openai import FakeOpenAI, Script  # noqa: E402
from tests.test_app_big_store import bulk_chats  # noqa: E402
from tui.core.chat import ChatFlow  # noqa: E402
from tui.core.client import ChatClient  # noqa: E402
from tui.core.config import Settings  # noqa: E402
from tui.core.store import Store  # noqa: E402
from tui.core.tokens import TokenCounter  # noqa: E402

TICK = 0.02


async def longest_gap_during(work) -> tuple[float, float]:
    """(longest gap between the timer's ticks beyond TICK, the work's seconds)."""
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(TICK)

    ticker = asyncio.get_running_loop().create_task(tick())
    await asyncio.sleep(0)
    started = time.monotonic()
    await work()
    ended = time.monotonic()
    ticker.cancel()
    ticks.append(ended)
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    return max(0.0, max(gaps) - TICK), ended - started


async def measure(sizes: list[int], runs: int) -> None:
    counter = TokenCounter("gpt-4o")
    counter.load_blocking()
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp, FakeOpenAI() as server:
        store = Store(Path(tmp) / "chats.db")
        client = ChatClient(base_url=server.base_url, api_key=None)
        flow = ChatFlow(store, client, counter,
                        Settings(model="gpt-4o", base_url=server.base_url))
        # Summaries (a long chat does not fit) and replies, each short.
        server.responder = lambda body: Script.reply(
            "A short reply." if body.get("stream") else "Rivers, seas and the rain.")
        try:
            for size in sizes:
                (chat,) = bulk_chats(store, 1, messages=size,
                                     title="A chat with a longer text to count {i} " * 8)
                first, first_took, later, seconds = None, 0.0, [], []
                for run in range(runs + 1):
                    async def send() -> None:
                        async for _ in flow.send(chat, f"and now, {run}?"):
                            pass

                    gap, took = await longest_gap_during(send)
                    if run == 0:
                        first, first_took = gap, took
                    else:
                        later.append(gap)
                        seconds.append(took)
                print(f"  {size:>6} messages: longest stall of the loop during a send "
                      f"{statistics.median(later) * 1000:.0f} ms median (min "
                      f"{min(later) * 1000:.0f}, max {max(later) * 1000:.0f}; the first "
                      f"send {first * 1000:.0f}); a send takes "
                      f"{statistics.median(seconds) * 1000:.0f} ms (the first "
                      f"{first_took * 1000:.0f} ms)", flush=True)
        finally:
            await client.aclose()
            store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", default="200,2000,10000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.messages.split(",")]
    logging.disable(logging.WARNING)  # the flow's notes would go to stderr
    print(f"a send in a chat of n messages, {args.runs} sends each (beyond the "
          f"{TICK * 1000:.0f} ms tick)")
    asyncio.run(measure(sizes, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
