"""A reply's end in the app: its whole text is on screen before the core stores it, and
nothing keeps running once it is done (issue 14: lag after the last byte, idle is idle)."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.models import MessageStatus
from tui.ui import reply_streams
from tui.ui.widgets.message_blocks import AssistantBlock
from tui.ui.widgets.streaming_markdown import StreamingMarkdown

REPLY = "First paragraph of the answer.\n\nAnd its very last words."


async def ask_and_wait(pilot, app) -> None:
    """Send a message and wait until its reply's stream is over."""
    app.main.composer.insert("tell me")
    await pilot.press("enter")
    await wait_until(pilot, lambda: not app.main.streams, what="the reply")


def when_stored_complete(monkeypatch, store, action) -> None:
    """Call ``action`` as the core stores a reply as complete, before the store does."""
    update = store.update_message

    def update_message(message_id, **fields):
        if fields.get("status") == MessageStatus.COMPLETE:
            action()
        return update(message_id, **fields)

    monkeypatch.setattr(store, "update_message", update_message)


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


async def test_the_whole_reply_is_on_screen_before_it_is_stored(services, fake_openai,
                                                                monkeypatch):
    """Storing a reply (counting it, indexing it: tens of ms for a long one) runs on the
    event loop; it used to come before the final update, which waited for it."""
    # No update on a timer: the only way the last words can show is the reply's end.
    monkeypatch.setattr(StreamingMarkdown, "FLUSH_INTERVAL", 30.0)
    # The wait for that frame is capped (0.25 s) so a stuck screen never holds the store
    # back; a loaded box (the suite runs two workers) can miss the cap, which is not what
    # this test is about: the order is.
    monkeypatch.setattr(reply_streams, "FINAL_FRAME_WAIT", 10.0)
    seen_at_store: list[str] = []
    when_stored_complete(monkeypatch, services.store,
                         lambda: seen_at_store.append(screen_text(app)))
    fake_openai.script(Script.reply(REPLY))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await ask_and_wait(pilot, app)
    assert len(seen_at_store) == 1
    assert "And its very last words." in seen_at_store[0]


async def test_nothing_runs_once_a_reply_is_done(services, fake_openai):
    """Idle is idle: no update timer, pending update or screen hold is left by a reply."""
    fake_openai.script(Script.reply(REPLY))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await ask_and_wait(pilot, app)
        await app.workers.wait_for_complete()
        await pilot.pause()
        block = app.main.pane.query(AssistantBlock).last()
        markdown = block.markdown
        assert markdown.finished and "And its very last words." in screen_text(app)
        # The blank rows kept below the text while it streamed are gone once it is stored.
        assert not markdown.runway_open
        assert markdown.size.height == markdown.virtual_size.height == 3
        assert markdown._timer is None and not markdown._flush_scheduled
        assert len(markdown._holds) == 0 and app._batch_count == 0
        running = [timer for node in (block, *block.walk_children()) for timer in node._timers
                   if timer._task is not None and not timer._task.done()]
        assert running == []


@asynccontextmanager
async def finished_reply(services, fake_openai):
    """The app with REPLY asked for and shown: (pilot, its AssistantBlock)."""
    fake_openai.script(Script.reply(REPLY))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await ask_and_wait(pilot, app)
        await pilot.pause()
        yield pilot, app.main.query(AssistantBlock).last()


async def test_a_finished_reply_given_too_little_room_is_laid_out_again(services, fake_openai):
    """Seen in a pty at 5,000 tok/s (about 1 reply in 40): the pane kept an arrangement from
    before a reply's last update, its block 579 rows high for 588 rows of content, and the
    pane ended short of the last words for good. The state is made here by hand (the race
    behind it needs a real terminal's timing); the check after a reply's end mends it."""
    from textual.geometry import Size
    from textual.widget import Widget

    async with finished_reply(services, fake_openai) as (pilot, block):
        width, height = block.size
        assert block.virtual_size.height == height, "a reply's block fits its content"
        block.set_reactive(Widget.virtual_size, Size(width, height + 9))  # the stale state
        await pilot.pause()
        assert block.size.height < block.virtual_size.height
        block.settle_layout()
        await wait_until(pilot, lambda: block.virtual_size.height <= block.size.height,
                         what="the block laid out again")


async def test_the_check_leaves_a_removed_reply_alone(services, fake_openai, caplog):
    """The check runs 0.3 s and 1 s after a reply's end; a new chat opened sooner removes
    the block, which then has no room at all: it was "laid out again", twice a reply (a pty,
    replies back to back), layouts of a block that is going away."""
    import asyncio
    import logging

    async with finished_reply(services, fake_openai) as (_pilot, block):
        removing = block.remove()  # as the pane does when another chat opens
        for _ in range(1000):  # detached a few loop turns later, still mounted
            if not block.is_attached:
                break
            await asyncio.sleep(0)
        assert block.is_mounted and not block.is_attached, "the state the timers found"
        with caplog.at_level(logging.INFO, logger="tui.ui.widgets.message_blocks"):
            block.settle_layout()
        await removing
        assert not [r for r in caplog.records if "less room" in r.getMessage()]


async def test_the_check_drops_the_replys_cached_arrangements(services, fake_openai):
    """The stall seen again at 5,000 tok/s (1 reply in 88): the check after the reply's end
    found too little room and laid the block and its Markdown out again, twice, and the
    pane still ended short. Textual measures a container from its arrangement cache, and a
    widget's ``refresh(layout=True)`` clears its ancestors' caches, not its own: the
    Markdown's stale arrangement outlived the check. Now the check leaves none of the
    arrangements cached before it (here: swapped for ones without the reply's last view,
    as if measured before its last update)."""
    from textual._arrange import arrange
    from textual.geometry import Size
    from textual.widget import Widget

    # More blocks than a page holds: the Markdown has more than one view however the
    # stream was gathered into updates.
    reply = "\n\n".join(f"Paragraph {n} of the answer." for n in range(80))
    fake_openai.script(Script.reply(reply + "\n\nAnd its very last words."))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await ask_and_wait(pilot, app)
        await pilot.pause()
        block = app.main.query(AssistantBlock).last()
        markdown = block.markdown
        assert len(markdown.children) > 1
        cache = markdown._arrangement_cache._cache
        assert cache, "Textual measured the Markdown from its arrangement cache"
        before_last = list(markdown._nodes)[:-1]
        stale = {key: arrange(markdown, before_last, key[0], app.screen.size,
                              optimal=key[2]) for key in cache}
        cache.update(stale)
        width, height = block.size
        block.set_reactive(Widget.virtual_size, Size(width, height + 9))  # the check fires
        block.settle_layout()
        await pilot.pause()
        await pilot.pause()
        kept = [key for key, value in markdown._arrangement_cache._cache.items()
                if stale.get(key) is value]
        assert kept == [], "an arrangement from before the check is still used"
        assert "And its very last words." in screen_text(app)


async def test_a_reply_whose_stream_crashed_is_closed_with_its_text(services, fake_openai,
                                                                    monkeypatch):
    """A store error once the text has ended (the worker crashes) used to leave the reply
    streaming on screen for good: its blank rows below the text, no end marker."""
    def fail() -> None:
        raise RuntimeError("disk I/O error")

    when_stored_complete(monkeypatch, services.store, fail)
    fake_openai.script(Script.reply(REPLY))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await ask_and_wait(pilot, app)
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: "disk I/O error" in screen_text(app),
                         what="the error")
        block = app.main.pane.query(AssistantBlock).last()
        markdown = block.markdown
        assert not block.live and markdown.finished
        assert block.message.status == MessageStatus.INTERRUPTED
        assert not markdown.runway_open
        assert markdown.size.height == markdown.virtual_size.height == 3
        assert "And its very last words." in screen_text(app)
