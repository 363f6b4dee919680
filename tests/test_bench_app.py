"""bench/bench_app.py keeps working: its in-process server mode and its launch measurement.

The bench is not run by CI, so a rename in the fake server or the app breaks it silently
(``--server thread`` used a handler class that had moved). These run its parts once, small.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from pathlib import Path

from bench import bench_app


def stream_once(port: int) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = {"model": "gpt-4o-mini", "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}
    conn.request("POST", "/v1/chat/completions", json.dumps(body),
                 {"Content-Type": "application/json"})
    data = conn.getresponse().read()
    conn.close()
    return data


async def test_thread_server_reports_the_last_byte_of_each_stream():
    server = await bench_app.ServerThread(tokens=20, tps=None).start()
    try:
        before = bench_app.now()
        raw = await asyncio.to_thread(stream_once, server.fake.port)
        assert raw.rstrip().endswith(b"data: [DONE]")
        last_byte = await asyncio.wait_for(server.last_byte(), 10)
        assert before <= last_byte <= bench_app.now()
    finally:
        await server.stop()
    # Stopped, the hook is gone: another server's streams are not reported to this one.
    assert server._done.empty()


async def test_launch_measures_up_to_the_usable_main_screen(tmp_path: Path, fake_openai):
    wall, cpu = await asyncio.wait_for(
        bench_app.bench_launch(tmp_path, fake_openai.base_url), 60)
    assert 0 < cpu <= wall + 0.05


async def test_open_measures_up_to_the_frame_that_shows_the_messages(tmp_path: Path,
                                                                     fake_openai):
    took, cpu = await asyncio.wait_for(
        bench_app.bench_open(tmp_path, fake_openai.base_url, 20, tune_gc=False), 60)
    assert took > 0 and cpu > 0


def test_launch_opens_the_services_as_the_app_does(tmp_path: Path):
    """run_app and the bench share open_app_services: the encoding waits for typing."""
    services = bench_app.app_services(tmp_path / "chats.db", "http://127.0.0.1:9/v1")
    try:
        assert services.counter.deferred and not services.counter.exact
    finally:
        services.close()
