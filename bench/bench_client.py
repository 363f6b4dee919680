"""ChatClient alone: CPU to stream a reply, without the UI.

Streams an N-token Markdown reply from the fake server (``tests.fake_openai``, in its own
process, as ``bench_app.py`` runs it) through ``ChatClient.stream_chat`` and prints the
median CPU seconds of this process per stream (``time.process_time``: the server is not in
it), and per 1,000 tokens. ``--client PATH`` measures another version of
tui/core/client.py, for a before/after:

    git show REV:tui/core/client.py > /tmp/client_before.py
    python bench/bench_client.py --client /tmp/client_before.py
    python bench/bench_client.py

Without ``--tps`` the server sends as fast as it can (the client's cost dominates); with
``--tps 2000`` the reply is paced like the app benchmark's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_app import ServerProcess, load_client  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[1000, 4000, 8000])
    parser.add_argument("--tps", type=float, default=None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--client", default=None, metavar="PATH")
    args = parser.parse_args()
    if args.client:
        load_client(args.client)
    from tui.core.client import ChatClient, TextDelta

    print(f"client: {args.client or 'tui/core/client.py'}; tps: {args.tps or 'unpaced'}")
    for tokens in args.tokens:
        server = await ServerProcess(tokens, args.tps).start()
        client = ChatClient(base_url=server.base_url, api_key=None)
        cpus, walls, deltas = [], [], 0
        try:
            for _ in range(args.runs + 1):  # the first one warms up (imports, connection)
                cpu0, wall0, deltas = time.process_time(), time.perf_counter(), 0
                async for event in client.stream_chat("gpt-4o-mini",
                                                      [{"role": "user", "content": "hi"}]):
                    deltas += isinstance(event, TextDelta)
                cpus.append(time.process_time() - cpu0)
                walls.append(time.perf_counter() - wall0)
                await server.last_byte()
        finally:
            await client.aclose()
            await server.stop()
        cpu = statistics.median(cpus[1:])
        print(f"{tokens} tokens ({deltas} deltas): CPU median {cpu * 1000:.0f} ms "
              f"({cpu * 1e6 / tokens:.0f} us/token; runs: "
              f"{', '.join(f'{c * 1000:.0f}' for c in cpus[1:])}); wall median "
              f"{statistics.median(walls[1:]) * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
