"""Loaded into the app by ``bench/bench_loop_census.py`` (on ``PYTHONPATH``); inert unless
``GPT_TUI_CENSUS`` names the file to write.

It counts, in the app's own process, where the event loop's time goes: each callback the
loop runs (a task's step is named by its coroutine and the object it belongs to, a timer by
its callback), with the main thread's CPU it took; each screen update (Textual's
``Screen._on_timer_update``), whether it laid the screen out; and each redraw of a streaming
reply (``StreamingMarkdown._flush``). A thread writes the totals to that file as JSON once a
second; the bench reads two of them and prints the difference.
"""

from __future__ import annotations

import os

if os.environ.get("GPT_TUI_CENSUS"):
    import asyncio
    import asyncio.base_events
    import asyncio.events
    import json
    import sys
    import threading
    import time
    from typing import Any

    _OUT = os.environ["GPT_TUI_CENSUS"]
    _callbacks: dict[str, list[float]] = {}
    _totals = {"turns": 0, "layout": 0, "layout_cpu": 0.0, "paint": 0, "paint_cpu": 0.0,
               "flush": 0, "flush_cpu": 0.0}

    def _name(handle: asyncio.Handle) -> str:
        callback = handle._callback  # type: ignore[attr-defined]
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            coro = owner.get_coro()
            name = getattr(coro, "__qualname__", type(coro).__name__)
            frame = getattr(coro, "cr_frame", None)
            this = frame.f_locals.get("self") if frame is not None else None
            if this is not None:
                name += f" of {type(this).__name__}"
                timed = getattr(this, "_callback", None)
                if type(this).__name__ == "Timer" and timed is not None:
                    name += f" ({getattr(timed, '__qualname__', '?')})"
            return "task " + name
        return getattr(callback, "__qualname__", type(callback).__name__)

    _run = asyncio.events.Handle._run

    def _timed_run(self: asyncio.Handle) -> None:
        started = time.thread_time()
        try:
            _run(self)  # type: ignore[arg-type]
        finally:
            entry = _callbacks.setdefault(_name(self), [0, 0.0])
            entry[0] += 1
            entry[1] += time.thread_time() - started

    asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]
    _run_once = asyncio.base_events.BaseEventLoop._run_once

    def _counted_run_once(self: Any) -> None:
        _totals["turns"] += 1
        _run_once(self)

    asyncio.base_events.BaseEventLoop._run_once = _counted_run_once  # type: ignore[method-assign]

    def _wrap_screen(module: Any) -> None:
        update = module.Screen._on_timer_update

        def timed_update(self: Any) -> None:
            layout = bool(self._layout_required)
            started = time.thread_time()
            try:
                update(self)
            finally:
                key = "layout" if layout else "paint"
                _totals[key] += 1
                _totals[key + "_cpu"] += time.thread_time() - started

        timed_update.__qualname__ = update.__qualname__
        module.Screen._on_timer_update = timed_update

    def _wrap_reply(module: Any) -> None:
        flush = module.StreamingMarkdown._flush

        def timed_flush(self: Any, final: bool = False) -> None:
            started = time.thread_time()
            try:
                flush(self, final)
            finally:
                _totals["flush"] += 1
                _totals["flush_cpu"] += time.thread_time() - started

        timed_flush.__qualname__ = flush.__qualname__
        module.StreamingMarkdown._flush = timed_flush

    def _watch() -> None:
        # The screen's update timer is bound when the screen mounts, so Screen is wrapped
        # as soon as its module has loaded, before the app starts.
        pending = {"textual.screen": ("Screen", _wrap_screen),
                   "tui.ui.widgets.streaming_markdown": ("StreamingMarkdown", _wrap_reply)}
        while pending:
            for name, (attribute, wrap) in list(pending.items()):
                module = sys.modules.get(name)
                if module is not None and hasattr(module, attribute):
                    wrap(module)
                    del pending[name]
            time.sleep(0.002)

    def _write() -> None:
        while True:
            time.sleep(1.0)
            data = {"time": time.monotonic(), **_totals,
                    "callbacks": {name: list(entry) for name, entry in list(_callbacks.items())}}
            with open(_OUT + ".tmp", "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(_OUT + ".tmp", _OUT)

    threading.Thread(target=_watch, name="census-watch", daemon=True).start()
    threading.Thread(target=_write, name="census-write", daemon=True).start()
