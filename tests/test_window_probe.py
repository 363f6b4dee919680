"""The window probe (ServerKnowledge.probe_window) is shared by its callers and outlives
them; when it fails with nobody left waiting (the app quit and closed the client while the
probe was on its way), the failure is logged quietly, not reported by asyncio as "Task
exception was never retrieved" (an error with a traceback in the log, or on stderr)."""

from __future__ import annotations

import asyncio
import gc
import logging

from tests.test_app_support import make_services


async def test_a_probe_left_alone_fails_quietly(tmp_path, fake_openai, caplog):
    services = make_services(tmp_path, fake_openai.base_url)
    knowledge = services.flow.knowledge
    await asyncio.to_thread(services.client.warm)
    await services.client.aclose()  # quitting: the probe's request cannot be sent any more
    reported: list[dict] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        caller = asyncio.ensure_future(knowledge.probe_window("local-model"))
        await asyncio.sleep(0)  # the probe has started
        caller.cancel()  # its only caller is gone (a worker cancelled on exit)
        (probe,) = knowledge._probes.values()
        with caplog.at_level(logging.DEBUG, logger="tui"):
            await asyncio.wait([probe])
        assert probe.done() and not probe.cancelled()  # (its exception is not read here)
        del probe, caller
        knowledge._probes.clear()
        gc.collect()
    finally:
        loop.set_exception_handler(None)
        services.close()
    assert reported == []
    assert any("window probe" in r.getMessage() and r.exc_info for r in caplog.records)
