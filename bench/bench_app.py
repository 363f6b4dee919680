"""End-to-end app benchmark: the real GptTuiApp (headless ``run_test``) against the real
test server (``FakeOpenAI`` in a thread) and a real SQLite file. Prints:

* ``launch``   seconds from constructing the services to the first rendered frame
               (target < 0.5 s), with a few conversations in the DB;
* ``stream``   a ~4,000-token Markdown reply streamed at 2,000 tokens/s: ms from the
               server writing its last byte to the last words being in the rendered
               screen (target < 100 ms), and the CPU seconds the app's thread spent
               during the stream (``time.thread_time``: the server's thread is excluded);
* ``open``     ms to open a 1,000-message conversation and paint it (target < 300 ms).

    python bench/bench_app.py [--tokens 4000] [--tps 2000] [--messages 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_openai import server as fake_server  # noqa: E402
from tests.fake_openai.replies import markdown_reply  # noqa: E402
from tui.core.models import Role  # noqa: E402
from tui.core.services import open_services  # noqa: E402
from tui.ui.app import GptTuiApp  # noqa: E402

SIZE = (120, 40)
LAST_BYTE: list[float] = []


def _record_done() -> None:
    """Note when the server writes its final ``[DONE]`` event (its last byte)."""
    original = fake_server._Handler._event

    def event(self, payload):  # type: ignore[no-untyped-def]
        ok = original(self, payload)
        if payload == "[DONE]":
            LAST_BYTE.append(time.perf_counter())
        return ok

    fake_server._Handler._event = event


def screen_text(app: GptTuiApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def isolate(tmp: Path) -> None:
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[name] = str(tmp / name.lower())
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GPT_TUI_DB", "GPT_TUI_MODEL"):
        os.environ.pop(name, None)


async def bench_launch(tmp: Path, base_url: str) -> float:
    db = tmp / "launch.db"
    services = open_services(db_path=db, flags={"base_url": base_url})
    for i in range(20):
        c = services.store.create_conversation(model="gpt-4o-mini", title=f"chat {i}")
        services.store.append_message(c.id, Role.USER, f"hello {i}")
    services.close()
    start = time.perf_counter()
    services = open_services(db_path=db, flags={"base_url": base_url})
    app = GptTuiApp(services)
    painted = asyncio.get_running_loop().create_future()
    async with app.run_test(size=SIZE) as pilot:
        app.call_after_refresh(lambda: painted.done() or painted.set_result(time.perf_counter()))
        await pilot.pause()
        end = await painted
    await services.aclose()
    return end - start


async def bench_stream(tmp: Path, fake, tokens: int, tps: float) -> tuple[float, float]:
    reply = markdown_reply(tokens)
    fake.reply = reply
    fake.tps = tps
    last_words = " ".join(reply.split()[-3:]).strip("`*#|- ")
    services = open_services(db_path=tmp / f"stream-{time.time_ns()}.db",
                             flags={"base_url": fake.base_url})
    services.counter.load_blocking()
    app = GptTuiApp(services)
    LAST_BYTE.clear()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        composer = app.main.composer
        composer.insert("Explain it all, in Markdown.")
        cpu0 = time.thread_time()
        await pilot.press("enter")
        while not LAST_BYTE:
            await asyncio.sleep(0.002)
        while last_words not in screen_text(app):
            await asyncio.sleep(0.002)
        shown = time.perf_counter()
        cpu = time.thread_time() - cpu0
        await app.workers.wait_for_complete()
    await services.aclose()
    return (shown - LAST_BYTE[-1]) * 1000, cpu


async def bench_open(tmp: Path, base_url: str, count: int) -> float:
    db = tmp / "open.db"
    services = open_services(db_path=db, flags={"base_url": base_url})
    store = services.store
    big = store.create_conversation(model="gpt-4o-mini", title="big one")
    body = markdown_reply(120)
    for i in range(count // 2):
        store.append_message(big.id, Role.USER, f"question {i}: how does this work?")
        store.append_message(big.id, Role.ASSISTANT, body, model="gpt-4o-mini")
    small = store.create_conversation(model="gpt-4o-mini", title="small one")
    store.append_message(small.id, Role.USER, "hi")
    app = GptTuiApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.main.conversation.id == small.id
        painted = asyncio.get_running_loop().create_future()
        start = time.perf_counter()
        await app.main.open_conversation(big.id)
        app.call_after_refresh(lambda: painted.set_result(time.perf_counter()))
        end = await painted
        assert "question" in screen_text(app)
    await services.aclose()
    return (end - start) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--tps", type=float, default=2000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _record_done()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        isolate(tmp)
        fake = fake_server.FakeOpenAI().start()
        try:
            launches = [await bench_launch(tmp / f"l{i}", fake.base_url)
                        for i in range(args.runs)]
            streams = [await bench_stream(tmp, fake, args.tokens, args.tps)
                       for _ in range(args.runs)]
            opens = [await bench_open(tmp / f"o{i}", fake.base_url, args.messages)
                     for i in range(args.runs)]
        finally:
            fake.stop()
    print(f"launch to first frame: median {statistics.median(launches):.3f} s "
          f"(runs: {', '.join(f'{x:.3f}' for x in launches)}; target < 0.5 s)")
    lags = [lag for lag, _ in streams]
    cpus = [cpu for _, cpu in streams]
    print(f"stream {args.tokens} tokens at {args.tps:.0f} tok/s: last words on screen "
          f"{statistics.median(lags):.0f} ms after the server's last byte "
          f"(runs: {', '.join(f'{x:.0f}' for x in lags)}; target < 100 ms); "
          f"app thread CPU {statistics.median(cpus):.2f} s")
    print(f"open a {args.messages}-message conversation: median "
          f"{statistics.median(opens):.0f} ms to first paint "
          f"(runs: {', '.join(f'{x:.0f}' for x in opens)}; target < 300 ms)")


if __name__ == "__main__":
    asyncio.run(main())
