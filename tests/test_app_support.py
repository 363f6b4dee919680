"""Shared helpers for the app's Pilot tests (this module holds no tests itself)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from tui.core.models import Role
from tui.core.services import Services, open_services
from tui.core.store import Store
from tui.ui.app import GptTuiApp

# Every relative time in the tests and snapshots is computed against this instant.
FIXED_NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=timezone.utc)
SIZE = (110, 34)


def fixed_now() -> datetime:
    return FIXED_NOW


def make_services(tmp_path: Path, base_url: str | None, *, model: str | None = None,
                  db_name: str = "chats.db", load_encoding: bool = False) -> Services:
    """``model`` is given as ``--model`` would be (None: the default model, gpt-4o-mini)."""
    flags = {"model": model, "base_url": base_url}
    return open_services(db_path=tmp_path / db_name, flags=flags, load_encoding=load_encoding)


def make_app(services: Services, **kwargs) -> GptTuiApp:
    return GptTuiApp(services, now=fixed_now, **kwargs)


async def wait_until(pilot, predicate: Callable[[], object], *, timeout: float = 5.0,
                     what: str = "condition") -> None:
    """Let the app run (bounded) until ``predicate()`` is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)


async def answer_setup(pilot, text: str) -> None:
    """Type ``text`` (a key or a server URL) into the first-run set-up panel and press
    Enter."""
    await pilot.pause()
    pilot.app.main.query_one("#setup-key").focus()
    await pilot.press(*text)
    await pilot.press("enter")


def screen_text(app) -> str:
    """What the terminal shows, as plain text (for "is it on screen" checks)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def seed_conversation(store: Store, title: str, *, updated: str, turns: int = 1,
                      model: str = "gpt-4o-mini", pinned: bool = False,
                      text: Callable[[int], tuple[str, str]] | None = None):
    """A conversation with ``turns`` question/answer pairs and a fixed `updated` time."""
    conversation = store.create_conversation(model=model, title=title)
    for i in range(turns):
        question, answer = text(i) if text else (f"question {i}", f"answer {i}")
        store.append_message(conversation.id, Role.USER, question)
        store.append_message(conversation.id, Role.ASSISTANT, answer, model=model)
    if pinned:
        store.set_pinned(conversation.id, True)
    store.update_conversation(conversation.id, updated=updated)
    return store.get_conversation(conversation.id)
