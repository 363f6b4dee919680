"""End-to-end app benchmark: the real GptTuiApp (headless ``run_test``) against the real
test server and a real SQLite file. Prints:

* ``launch``   seconds from opening the services (as the build's ``run_app`` does) to the
               first rendered frame of the usable main screen (Textual's ``Ready``;
               target < 0.5 s), with a few conversations in the DB, and the app thread's
               CPU seconds for it (on a busy machine the wall time mostly measures the
               wait for a core);
* ``stream``   a Markdown reply of N tokens streamed at 2,000 tokens/s (default sizes
               1,000 / 4,000 / 8,000): ms from the server's last byte to the last words
               being in the rendered screen (target < 100 ms at 4,000), and the app's CPU
               seconds for the stream (from pressing Enter to the last words on screen);
* ``open``     ms to open a 1,000-message conversation and paint it (target < 300 ms), and
               the process's CPU ms for it, once start-up work in other threads is done.

The server (``tests.fake_openai``) runs by default in a separate process
(``--server process``), so it does not compete with the measured app for the GIL and the
CPU figure is ``time.process_time()`` of the whole app process. The process is this file
run as ``bench_app.py --serve <python -m tests.fake_openai args>``: that is exactly the
fake server's CLI, plus one hook that prints ``DONE <t>`` on stdout right after the server
has written (and flushed) its final ``data: [DONE]`` event to the socket, ``t`` being
``CLOCK_MONOTONIC`` (system-wide on Linux, so comparable with the app process's clock).
"The server's last byte" is that instant; the only part of the chunked body after it is the
5-byte ``0\\r\\n\\r\\n`` terminator. The bench reads the line from the pipe in the app's
event loop (no polling), then polls the rendered screen every 2 ms for the last words.
Each stream run starts with a ``gc.collect()``, so the previous run's app (garbage by then)
is not torn down by a collection in the middle of the next stream.

``--server thread`` is the old mode: ``FakeOpenAI`` in a thread of the app process (same
hook, in-process), CPU being ``time.thread_time()`` of the app's thread.

``--code CHECKOUT`` measures another checkout's app with this bench (A/B against an older
build, alternating the two in the same minutes).

``--gc freeze`` calls ``gc.freeze()`` once the app is up (before Enter); ``--gc-threshold
N`` sets the generation-0 threshold (gen1/gen2 unchanged) for the app's whole run. The
stream line then also shows cyclic-GC collections during the stream and their longest pause.

    python bench/bench_app.py [--tokens 1000 4000 8000] [--tps 2000] [--messages 1000]
                              [--runs 5] [--server process|thread] [--gc freeze]
                              [--gc-threshold 10000] [--skip launch open]
                              [--client /tmp/client_before.py] [--code /tmp/baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZE = (120, 40)
ROOT = Path(__file__).resolve().parents[1]


def now() -> float:
    """The clock both processes share (Linux: CLOCK_MONOTONIC is system-wide)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# --- the server process --------------------------------------------------------------------

def on_done(callback: Callable[[float], None]) -> Callable[[], None]:
    """Call ``callback(now())`` each time a fake server of this process has written its
    final ``[DONE]`` event (the hook wraps the shared handler class); returns the undo."""
    from tests.fake_openai.handler import Handler

    original = Handler._event

    def event(self, payload):  # type: ignore[no-untyped-def]
        ok = original(self, payload)
        if payload == "[DONE]":
            callback(now())
        return ok

    Handler._event = event  # type: ignore[method-assign]

    def undo() -> None:
        Handler._event = original  # type: ignore[method-assign]

    return undo


def serve(argv: list[str]) -> int:
    """``python -m tests.fake_openai`` plus a ``DONE <t>`` line when [DONE] is written."""
    from tests.fake_openai.__main__ import main as fake_main

    on_done(lambda t: print(f"DONE {t:.6f}", flush=True))
    return fake_main(argv)


class ServerProcess:
    """The fake server in its own interpreter; ``last_byte()`` awaits its next DONE line."""

    def __init__(self, tokens: int, tps: float | None) -> None:
        self.args = ["--port", "0", "--reply", "markdown", "--tokens", str(tokens)]
        if tps:
            self.args += ["--tps", f"{tps:g}"]
        self.proc: asyncio.subprocess.Process | None = None
        self.base_url = ""

    async def start(self) -> ServerProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--serve", *self.args,
            stdout=asyncio.subprocess.PIPE, cwd=str(ROOT))
        line = (await self._line()).strip()
        match = re.search(r"(http://\S+/v1)", line)
        if not match:
            raise RuntimeError(f"unexpected server banner: {line!r}")
        self.base_url = match.group(1)
        return self

    async def _line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        if not raw:
            raise RuntimeError("the fake server process exited")
        return raw.decode()

    async def last_byte(self) -> float:
        while True:
            line = await self._line()
            if line.startswith("DONE "):
                return float(line.split()[1])

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


class ServerThread:
    """The old mode: FakeOpenAI in a thread of this process, same DONE hook."""

    def __init__(self, tokens: int, tps: float) -> None:
        from tests.fake_openai.replies import markdown_reply
        from tests.fake_openai.server import FakeOpenAI

        self._done: asyncio.Queue[float] = asyncio.Queue()
        self.fake = FakeOpenAI(tps=tps, reply=markdown_reply(tokens))
        self.base_url = ""
        self._unhook: Callable[[], None] = lambda: None

    async def start(self) -> ServerThread:
        loop = asyncio.get_running_loop()
        self._unhook = on_done(lambda t: loop.call_soon_threadsafe(self._done.put_nowait, t))
        self.fake.start()
        self.base_url = self.fake.base_url
        return self

    async def last_byte(self) -> float:
        return await self._done.get()

    async def stop(self) -> None:
        self.fake.stop()
        self._unhook()


Server = ServerProcess | ServerThread


# --- measurements --------------------------------------------------------------------------

def send_key(app: Any, key: str) -> None:
    """A key event into the app's queue, as from the terminal (nothing awaited)."""
    from textual import events

    event = events.Key(key, "\r" if key == "enter" else None)
    event.set_sender(app)
    app._driver.send_message(event)


def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def isolate(tmp: Path) -> None:
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[name] = str(tmp / name.lower())
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GPT_TUI_DB", "GPT_TUI_MODEL"):
        os.environ.pop(name, None)


class GcWatch:
    """Cyclic-GC collections (per generation) and their pauses (wall, CPU) while active."""

    def __init__(self) -> None:
        self.reset()
        self.active = False
        self._start = (0.0, 0.0)

    def reset(self) -> None:
        self.counts = [0, 0, 0]
        self.pauses: list[tuple[float, float]] = []

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._start = (time.perf_counter(), time.thread_time())
        else:
            self.counts[info["generation"]] += 1
            self.pauses.append((time.perf_counter() - self._start[0],
                                time.thread_time() - self._start[1]))

    def summary(self, runs: int) -> str:
        wall, cpu = max(self.pauses, default=(0.0, 0.0))
        return (f"gc per stream gen0/1/2 {'/'.join(f'{c / runs:.0f}' for c in self.counts)}, "
                f"longest pause {wall * 1000:.0f} ms ({cpu * 1000:.0f} ms CPU)")


def load_client(path: str) -> None:
    """Measure another version of tui/core/client.py (e.g. the one before a change)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tui.core.client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tui.core.client"] = module
    spec.loader.exec_module(module)


def app_services(db: Path, base_url: str) -> Any:
    """The services opened as the measured build's ``run_app`` opens them:
    ``open_app_services`` (the token encoding deferred); a build from before that
    function deferred the encoding the same way if its counter can, else loaded it at
    start in a thread (1475d93)."""
    import tui.ui.app as app_module
    from tui.core.services import open_services
    from tui.core.tokens import TokenCounter

    flags = {"base_url": base_url}
    opener = getattr(app_module, "open_app_services", None)
    if opener is not None:
        return opener(db_path=str(db), flags=flags)
    defers = hasattr(TokenCounter, "defer_loading")
    services = open_services(db_path=db, flags=flags, load_encoding=not defers)
    if defers:
        services.counter.defer_loading()
    return services


def usable(text: str) -> bool:
    """The main screen a user can work with: the newest chat listed, the composer shown."""
    return "chat 19" in text and "Message…" in text


async def bench_launch(tmp: Path, base_url: str) -> tuple[float, float]:
    """Seconds from opening the services (as run_app does) to the first frame of the
    usable main screen, and the app thread's CPU seconds over the same span.

    The frame is Textual's ``Ready`` event (posted after the screen's first compositor
    refresh). Not ``pilot.pause()``: that waits until the whole process is idle (Textual's
    wait_for_idle compares process CPU time with wall time), so it also waited for work
    that starts after the first frame in other threads (the openai SDK import, the token
    encoding) and charged it to the launch.
    """
    from textual import events

    from tui.core.models import Role
    from tui.core.services import open_services
    from tui.ui.app import GptTuiApp

    db = tmp / "launch.db"
    # No encoding load here: its thread would still be running during the measured start.
    services = open_services(db_path=db, flags={"base_url": base_url}, load_encoding=False)
    for i in range(20):
        c = services.store.create_conversation(model="gpt-4o-mini", title=f"chat {i}")
        services.store.append_message(c.id, Role.USER, f"hello {i}")
    services.close()
    ready = asyncio.Event()

    def first_frame(message: object) -> None:
        if isinstance(message, events.Ready):
            ready.set()

    start, cpu = time.perf_counter(), time.thread_time()
    services = app_services(db, base_url)
    app = GptTuiApp(services)
    async with app.run_test(size=SIZE, message_hook=first_frame) as pilot:
        await ready.wait()
        while not usable(screen_text(app)):  # in case a later frame completes it
            await asyncio.sleep(0.002)
        end, cpu = time.perf_counter() - start, time.thread_time() - cpu
        await pilot.pause()
    await services.aclose()
    return end, cpu


async def bench_stream(tmp: Path, server: Server, tokens: int, *, thread_cpu: bool,
                       freeze: bool, tune_gc: bool, watch: GcWatch) -> tuple[float, float]:
    from tests.fake_openai.replies import markdown_reply
    from tui.core.services import open_services
    from tui.ui.app import GptTuiApp

    reply = markdown_reply(tokens)
    last_words = " ".join(reply.split()[-3:]).strip("`*#|- ")
    cpu_clock = time.thread_time if thread_cpu else time.process_time
    gc.collect()  # the previous run's app is garbage now: do not charge its teardown to this run
    services = open_services(db_path=tmp / f"stream-{time.time_ns()}.db",
                             flags={"base_url": server.base_url})
    services.counter.load_blocking()
    app = GptTuiApp(services, tune_gc=tune_gc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if freeze:
            gc.freeze()
        composer = app.main.composer
        composer.insert("Explain it all, in Markdown.")
        last_byte = asyncio.ensure_future(server.last_byte())
        watch.active = True
        cpu0 = cpu_clock()
        # The key goes in as the driver would send it, without pilot.press: press waits
        # until every widget's queue is empty, which during a fast stream is after the last
        # byte, so the watch for the last words began late and the lag was press's return.
        send_key(app, "enter")
        done = await last_byte
        while last_words not in screen_text(app):
            await asyncio.sleep(0.002)
        shown = now()
        cpu = cpu_clock() - cpu0
        watch.active = False
        await app.workers.wait_for_complete()
        if freeze or tune_gc:
            gc.unfreeze()
    await services.aclose()
    return (shown - done) * 1000, cpu


async def settle(app: Any, pilot: Any) -> None:
    """Let start-up work in other threads finish (the token encoding, the openai SDK import
    where a build does it after the first frame), so a measurement that follows does not
    compete with it for the GIL; builds that import the SDK up front have nothing to do."""
    services = app.services
    await asyncio.to_thread(services.counter.load_blocking)
    warm = getattr(services.client, "warm", None)
    if warm is not None:
        await asyncio.to_thread(warm)
    await pilot.pause()


async def bench_open(tmp: Path, base_url: str, count: int, *,
                     tune_gc: bool) -> tuple[float, float]:
    """Milliseconds from opening a ``count``-message conversation to the frame that shows
    it, and the CPU seconds (every thread: the store calls run off the event loop).
    ``tune_gc``: the app freezes its start-up objects as run_app's does (``--gc app``)."""
    from tests.fake_openai.replies import markdown_reply
    from tui.core.models import Role
    from tui.core.services import open_services
    from tui.ui.app import GptTuiApp

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
    app = GptTuiApp(services, tune_gc=tune_gc)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.main.conversation.id == small.id
        painted = asyncio.get_running_loop().create_future()

        def shown() -> None:  # the first refresh whose frame shows the messages
            if "question" in screen_text(app):
                painted.set_result(time.perf_counter())
            else:
                app.call_after_refresh(shown)

        start, cpu = time.perf_counter(), time.process_time()
        await app.main.open_conversation(big.id)
        app.call_after_refresh(shown)
        end = await painted
        cpu = time.process_time() - cpu
    if tune_gc:
        gc.unfreeze()
    await services.aclose()
    return (end - start) * 1000, cpu


def runs_text(values: list[float], fmt: str) -> str:
    return ", ".join(format(v, fmt) for v in values)


async def with_server(args: argparse.Namespace, tokens: int,
                      body: Callable[[Server], Awaitable[Any]]) -> Any:
    factory = ServerProcess if args.server == "process" else ServerThread
    server = await factory(tokens, args.tps).start()
    try:
        return await body(server)
    finally:
        await server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[1000, 4000, 8000])
    parser.add_argument("--tps", type=float, default=2000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", choices=["process", "thread"], default="process")
    parser.add_argument("--gc", choices=["app", "default", "freeze"], default="app",
                        help="app (default): the tuning run_app applies (gen0 threshold "
                             "and a freeze after the first frame, tui/ui/gc_tuning.py); "
                             "default: Python's defaults; freeze: only gc.freeze()")
    parser.add_argument("--gc-threshold", type=int, default=None)
    parser.add_argument("--skip", nargs="*", default=[], choices=["launch", "stream", "open"])
    parser.add_argument("--code", default=None, metavar="CHECKOUT",
                        help="measure the app of another checkout (its tui package and "
                             "tests.fake_openai replies) with this bench, e.g. a worktree "
                             "of the build before a change; the server stays this one")
    parser.add_argument("--client", default=None, metavar="PATH",
                        help="use this file as tui/core/client.py (e.g. a version before a "
                             "change, from git show REV:tui/core/client.py > PATH)")
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(Path(args.code).resolve()))
    if args.client:
        load_client(args.client)
    if args.gc == "app":
        from tui.ui.gc_tuning import raise_gen0_threshold

        raise_gen0_threshold()
    if args.gc_threshold is not None:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(args.gc_threshold, gen1, gen2)
    watch = GcWatch()
    gc.callbacks.append(watch)
    import tui

    print(f"app: {Path(tui.__file__).parent}; server: {args.server}; client: "
          f"{args.client or 'tui/core/client.py'}; gc: "
          f"{args.gc}, thresholds {gc.get_threshold()}; runs: {args.runs}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        isolate(tmp)
        if "launch" not in args.skip:
            launches = await with_server(args, 100, lambda s: _repeat(
                args.runs, lambda i: bench_launch(tmp / f"l{i}", s.base_url)))
            walls = [wall for wall, _ in launches]
            cpus = [cpu for _, cpu in launches]
            print(f"launch to first frame: median {statistics.median(walls):.3f} s "
                  f"(runs: {runs_text(walls, '.3f')}; target < 0.5 s); app thread CPU "
                  f"median {statistics.median(cpus):.3f} s (runs: {runs_text(cpus, '.3f')})",
                  flush=True)
        for tokens in [] if "stream" in args.skip else args.tokens:
            watch.reset()

            async def streams(server: Server, tokens: int = tokens) -> list[Any]:
                return [await bench_stream(tmp, server, tokens,
                                           thread_cpu=args.server == "thread",
                                           freeze=args.gc == "freeze",
                                           tune_gc=args.gc == "app", watch=watch)
                        for _ in range(args.runs)]

            results = await with_server(args, tokens, streams)
            lags = [lag for lag, _ in results]
            cpus = [cpu for _, cpu in results]
            print(f"stream {tokens} tokens at {args.tps:.0f} tok/s: last words on screen "
                  f"median {statistics.median(lags):.0f} ms (min {min(lags):.0f}, max "
                  f"{max(lags):.0f}) after the server's last byte (runs: "
                  f"{runs_text(lags, '.0f')}); app CPU median {statistics.median(cpus):.2f} s "
                  f"(runs: {runs_text(cpus, '.2f')}); {watch.summary(args.runs)}", flush=True)
        if "open" not in args.skip:
            opens = await with_server(args, 100, lambda s: _repeat(
                args.runs, lambda i: bench_open(tmp / f"o{i}", s.base_url, args.messages,
                                    tune_gc=args.gc == "app")))
            walls = [wall for wall, _ in opens]
            cpus = [cpu * 1000 for _, cpu in opens]
            print(f"open a {args.messages}-message conversation: median "
                  f"{statistics.median(walls):.0f} ms to first paint "
                  f"(runs: {runs_text(walls, '.0f')}; target < 300 ms); CPU median "
                  f"{statistics.median(cpus):.0f} ms (runs: {runs_text(cpus, '.0f')})",
                  flush=True)


async def _repeat(runs: int, make: Callable[[int], Awaitable[Any]]) -> list[Any]:
    return [await make(i) for i in range(runs)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        raise SystemExit(serve(sys.argv[2:]))
    asyncio.run(main())
