"""The app draws its first frame before importing the openai SDK, and works before it is in.

The SDK import (~0.7 s) happens in a thread after the first frame (GptTuiApp._after_first_frame);
a send made before that finished waits for it instead of failing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from textual import events

from tests.fake_openai.scripts import Script
from tests.test_app_chat import assistant_blocks, type_and_send
from tests.test_app_support import SIZE, make_app, make_services, wait_until
from tui.core.models import Role
from tui.ui.widgets.message_blocks import ErrorBlock

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


async def test_a_send_before_the_sdk_is_ready_waits_for_it(services, fake_openai):
    fake_openai.script(Script.reply("ready now"))
    client = services.client
    assert not client.ready  # building the services imported and built nothing
    release, warming = threading.Event(), threading.Event()
    real_warm = client.warm

    def slow_warm() -> None:  # the import taking its time, in its thread
        warming.set()
        release.wait(10)
        real_warm()

    client.warm = slow_warm
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello before the SDK")
        await wait_until(pilot, warming.is_set, what="the warm-up to start")
        await pilot.pause(0.1)
        assert not client.ready and not fake_openai.chat_requests()
        assert not app.main.pane.query(ErrorBlock)
        release.set()
        await wait_until(pilot, lambda: assistant_blocks(app)
                         and assistant_blocks(app)[-1].text == "ready now",
                         what="the reply", timeout=10)
        assert client.ready and not app.main.pane.query(ErrorBlock)
        # The whole text shows before the core stores it (the reply's end is not paced).
        await wait_until(pilot, lambda: not app.main.streams, what="the reply stored")
        stored = services.store.load_messages(app.main.conversation.id)
        assert [(m.role, m.content) for m in stored] == [
            (Role.USER, "hello before the SDK"), (Role.ASSISTANT, "ready now")]


# A fresh interpreter: records whether the SDK was imported when the first frame was up.
FIRST_FRAME = """
import asyncio, json, sys, threading
from tests.test_app_chat import assistant_blocks, type_and_send
from tests.test_app_support import wait_until
from tui.core.services import open_services
from tui.ui.app import GptTuiApp

SDK_STACK = {"openai", "httpx2", "httpcore2", "h11", "anyio", "sniffio", "pydantic"}


class OnTheLoop:  # records the SDK's stack imported by the event loop's thread
    watching = False
    names = set()

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if (cls.watching and threading.current_thread() is threading.main_thread()
                and name.split(".")[0] in SDK_STACK):
            cls.names.add(name)
        return None  # the usual finders import it


sys.meta_path.insert(0, OnTheLoop)

seen = {"after import": "openai" in sys.modules}
services = open_services(db_path=sys.argv[1], flags={"base_url": sys.argv[2]},
                         load_encoding=False)
seen["after services"] = "openai" in sys.modules


async def main():
    app = GptTuiApp(services, owns_services=True)
    after_first_frame = app._after_first_frame

    def probe():
        seen["at first frame"] = "openai" in sys.modules
        seen["tiktoken at first frame"] = "tiktoken" in sys.modules  # waits for typing
        OnTheLoop.watching = True
        after_first_frame()

    app._after_first_frame = probe
    async with app.run_test() as pilot:
        while not services.client.ready:
            await pilot.pause(0.05)
        # The warm-up imported what requests need: neither the app's first probes of the
        # server nor the first send import any of the SDK's stack on the event loop.
        await type_and_send(pilot, "hello")
        await wait_until(pilot, lambda: assistant_blocks(app)
                         and assistant_blocks(app)[-1].text == "warm", what="the reply")
        await wait_until(pilot, lambda: not len(app.main.streams), what="the reply stored")
        seen["imported on the event loop"] = sorted(OnTheLoop.names)

asyncio.run(main())
print(json.dumps(seen))
"""


def test_the_first_frame_comes_before_the_sdk_import(tmp_path, fake_openai):
    fake_openai.script(Script.reply("warm"))
    result = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME, str(tmp_path / "chats.db"), fake_openai.base_url],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen == {"after import": False, "after services": False, "at first frame": False,
                    "tiktoken at first frame": False, "imported on the event loop": []}


# gpt-4's 8k window leaves a prompt budget of ~6,000 tokens; half of it in bytes is ~3 KB,
# where the deferred encoding is asked for (tokens.EXACT_SHARE).
NEAR_MODEL = "gpt-4"
NEAR = "a line of words, as pasted from a log file\n" * 100  # 4,300 bytes


@asynccontextmanager
async def deferred_encoding_app(tmp_path, fake_openai, model: str = NEAR_MODEL):
    """The app as run_app starts it, the encoding deferred, on a model with an 8k window
    (by default); (pilot, services) once warmed up."""
    services = make_services(tmp_path, fake_openai.base_url, model=model)
    services.counter.defer_loading()
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: services.client.ready, what="the warm-up")
            yield pilot, services
    finally:
        await services.aclose()


async def paste_and_send(pilot, text: str) -> None:
    """Paste ``text`` into the composer and press Enter at once (before typing pauses)."""
    pilot.app.main.composer.focus()
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()
    await pilot.press("enter")


async def test_a_deferred_encoding_loads_once_the_chat_nears_its_window(tmp_path, fake_openai):
    """run_app defers the encoding (~50 MB): far from the window (a few words typed) it
    stays unloaded; a paste that brings the chat near it loads it, once typing pauses."""
    from tui.ui.encoding_load import ENCODING_IDLE

    async with deferred_encoding_app(tmp_path, fake_openai) as (pilot, services):
        main = pilot.app.main
        main.composer.focus()
        await pilot.press("h", "i")
        await pilot.pause(ENCODING_IDLE * 3)
        assert services.counter.deferred and main.status.reading.estimated
        pilot.app.post_message(events.Paste(NEAR))
        await pilot.press("x")
        assert services.counter.deferred  # not while the keys come (a stall mid-word)
        await wait_until(pilot, lambda: services.counter.exact, timeout=10,
                         what="the encoding, once typing paused")


async def test_a_model_whose_counts_are_calibrated_loads_it_when_typing_pauses(
        tmp_path, fake_openai):
    """Not an OpenAI model, and a server that does not count: the meter reads calibrated
    counts, and the calibration learns from the encoding's counts only. Far from the
    window, an estimate there read as much as twice too low; the encoding loads as before,
    once typing pauses."""
    async with deferred_encoding_app(tmp_path, fake_openai, "local-model") as (pilot,
                                                                              services):
        main = pilot.app.main
        main.composer.focus()
        await pilot.press("h", "i")
        assert services.counter.deferred  # not while the keys come (a stall mid-word)
        await wait_until(pilot, lambda: services.counter.exact, timeout=10,
                         what="the encoding, once typing paused")


async def test_a_send_near_the_window_loads_the_encoding_before_the_reply(tmp_path,
                                                                          fake_openai):
    """A paste sent at once, before typing paused: the request is planned on exact counts,
    and the load (~0.35 s of Python) does not come during the reply, where it put the event
    loop behind the stream."""
    fake_openai.script(Script.reply(" ".join(["word"] * 40), tps=20))  # ~2 s of stream
    async with deferred_encoding_app(tmp_path, fake_openai) as (pilot, services):
        main = pilot.app.main
        await paste_and_send(pilot, NEAR)
        await wait_until(pilot, lambda: bool(main.replies), timeout=10, what="the reply")
        assert services.counter.exact, "loaded before the request left"
        sent = fake_openai.chat_requests()[-1]["messages"][-1]["content"]
        assert sent == NEAR


async def test_a_draft_near_the_window_sent_at_once_is_judged_on_exact_counts(tmp_path,
                                                                              fake_openai):
    """The estimate reads long words high (3 tokens for " understanding", tiktoken's 1):
    sent before typing paused, this draft was refused as too long for a window it fits."""
    from tui.core.context import budget_for
    from tui.core.tokens import estimate_tokens

    text = "understanding " * 2_500
    assert estimate_tokens(text) > budget_for(8_192, None).available  # refused on it
    fake_openai.script(Script.reply("read it"))
    async with deferred_encoding_app(tmp_path, fake_openai) as (pilot, services):
        await paste_and_send(pilot, text)
        await wait_until(pilot, lambda: fake_openai.chat_requests(), timeout=10,
                         what="the request")
        assert fake_openai.chat_requests()[-1]["messages"][-1]["content"] == text


async def test_a_deferred_encoding_waits_for_the_streaming_reply(tmp_path, fake_openai):
    """Typed during a reply, a draft that brings the chat near its window asks for the
    encoding; it loads once the reply has ended (its ~0.35 s of Python put the event loop
    behind the stream)."""
    from tui.ui.encoding_load import ENCODING_IDLE

    fake_openai.script(Script.reply(" ".join(["word"] * 40), tps=20))  # ~2 s of stream
    async with deferred_encoding_app(tmp_path, fake_openai) as (pilot, services):
        main = pilot.app.main
        await type_and_send(pilot, "hello")
        await wait_until(pilot, lambda: bool(main.replies), what="the reply")
        main.composer.focus()
        pilot.app.post_message(events.Paste(NEAR))
        await pilot.pause(ENCODING_IDLE + 0.3)  # the idle delay runs out mid-reply
        assert main.replies, "the reply is still streaming (else this proves nothing)"
        assert services.counter.deferred
        await wait_until(pilot, lambda: services.counter.exact, timeout=15,
                         what="the encoding, once the reply ended")
        assert not main.replies


def test_the_sdk_import_runs_without_the_cycle_collector(tmp_path):
    """~0.1 s of CPU: the SDK's import makes no garbage for the collector to find."""
    code = """
import gc, sys
from tui.core.client import ChatClient
runs = []
gc.callbacks.append(lambda phase, info: runs.append(info) if phase == "stop" else None)
client = ChatClient(base_url="http://127.0.0.1:9/v1", api_key=None)
client.warm()
print(len(runs), gc.isenabled(), "openai" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    collections, enabled, imported = result.stdout.split()
    assert imported == "True" and enabled == "True", result.stderr
    assert int(collections) <= 3, result.stdout  # ~150 before


async def test_a_load_held_back_for_a_reply_waits_for_typing_to_pause(tmp_path, fake_openai):
    """Typed during a reply, the load waits for its end; it then waits for typing to pause
    as well: tiktoken holds the GIL ~0.3 s building the encoding, which keys typed then
    would wait for."""
    from tui.ui.encoding_load import ENCODING_IDLE

    fake_openai.script(Script.reply(" ".join(["word"] * 120), tps=40))  # ~3 s of stream
    async with deferred_encoding_app(tmp_path, fake_openai) as (pilot, services):
        main = pilot.app.main
        await type_and_send(pilot, "hello")
        await wait_until(pilot, lambda: bool(main.replies), what="the reply")
        main.composer.focus()
        pilot.app.post_message(events.Paste(NEAR))  # near the window: the encoding is due
        await pilot.pause(ENCODING_IDLE + 0.1)  # typing paused, but the reply streams
        assert main.replies, "the reply is still streaming (else this proves nothing)"
        assert services.counter.deferred
        while main.replies:  # keep typing until the reply ends, and on after it
            await pilot.press("b")
            await pilot.pause(ENCODING_IDLE / 3)
        checked = 0
        last = time.monotonic()
        for _ in range(6):
            await pilot.press("c")
            await pilot.pause(ENCODING_IDLE / 3)
            now = time.monotonic()
            # Only where the keys came closer together than the idle delay: a machine busy
            # enough to hold this loop longer (a fresh clone's CI, three workers on two
            # cores) made a pause in typing of its own.
            if now - last < ENCODING_IDLE * 0.8:
                assert services.counter.deferred, "not while the keys come"
                checked += 1
            last = now
        assert checked >= 2, "the keys never came close together: this proved nothing"
        await wait_until(pilot, lambda: services.counter.exact, timeout=15,
                         what="the encoding, once typing paused after the reply")


async def test_the_meter_counts_again_once_the_encoding_is_in(tmp_path, fake_openai):
    """The meter read the draft with estimates before the encoding came in, and kept that
    reading (still marked as an estimate, tokens from the heuristic) until something else
    changed it."""
    async with deferred_encoding_app(tmp_path, fake_openai) as (pilot, services):
        main = pilot.app.main
        main.composer.focus()
        pilot.app.post_message(events.Paste(NEAR))
        await wait_until(pilot, lambda: main.status.reading is not None
                         and main.status.reading.estimated, what="the estimated reading")
        await wait_until(pilot, lambda: services.counter.exact, timeout=15,
                         what="the encoding, once typing paused")
        meter = services.context_for(main.new_chat.unsaved()).meter
        fresh = meter.reading(main.composer.full_text)
        assert not fresh.estimated
        await wait_until(pilot, lambda: not main.status.reading.estimated
                         and main.status.reading.tokens == fresh.tokens,
                         what="the meter counted again")
