"""Snapshot tests: the screens a user sees, at the sizes terminals have, in live states.

Deterministic by construction: fixed DB content with fixed `updated` times, relative times
computed against a fixed "now" (anything stored during a test is later than it: "just
now"), token counts left as estimates (no encoding loaded), a fixed terminal size, replies
from the test server (a held stream stays exactly where it was held), and every cursor blink
frozen right before the capture: a blinking cursor is drawn or not depending on when the
frame is taken, which made the first-run snapshot (its focused key field blinks) flaky.
"""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot

from tests.fake_openai.scripts import Script
from tests.fake_openai.tokens import split_tokens
from tests.test_app_support import (
    make_app,
    make_services,
    screen_text,
    seed_conversation,
    wait_until,
)
from tui.ui.widgets.composer import Composer

SNAPSHOT_SIZE = (100, 30)
CODE_REPLY = """Use a **list comprehension**:

```python
squares = [n * n for n in range(10)]
```

- short
- readable"""
LONG_REPLY = """## Squares in Python

A list comprehension builds the list in one expression:

```python
squares = [n * n for n in range(10)]
print(squares)
```

It reads left to right: *the value*, then *where it comes from*. The same with `map`:

```python
squares = list(map(lambda n: n * n, range(10)))
```

| form | reads as |
| --- | --- |
| comprehension | a formula |
| map | a pipeline |

Both give the same ten numbers."""
# The stream is held after this many tokens: mid-way through the second code block, after
# its first line. What shows then is the same however the tokens were gathered into screen
# updates: held mid-paragraph, a closed code block was on a page or still in the tail with
# the paragraph's first words (a loaded machine gathers more), and the two draw the same
# blank rows as different segments, which the snapshot compares.
HOLD_AFTER = 81
STREAM_TPS = 40


def seeded_services(tmp_path, base_url: str = "http://127.0.0.1:9/v1"):
    services = make_services(tmp_path, base_url)
    store = services.store
    seed_conversation(store, "Weekend hiking plan", updated="2026-03-02T09:00:00.000Z")
    seed_conversation(store, "[bold]Literal title", updated="2026-02-20T09:00:00.000Z")
    seed_conversation(store, "Pinned reference", updated="2026-01-05T09:00:00.000Z",
                      pinned=True)
    seed_conversation(store, "Python squares", updated="2026-03-02T11:58:00.000Z",
                      text=lambda i: ("How do I square numbers 0-9 in Python?", CODE_REPLY))
    return services


def freeze_cursors(app: App) -> None:
    """Stop every cursor blink on every screen (Input, TextArea): drawn, and staying so."""
    for screen in app.screen_stack:
        for widget in screen.query("*"):
            if getattr(widget, "cursor_blink", False):
                widget.cursor_blink = False  # type: ignore[attr-defined]


async def ready(pilot: Pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.screen.query(Composer), what="the composer")
    await pilot.pause()


async def settle(pilot: Pilot) -> None:
    """The last step before a capture: freeze the cursors, let the frame catch up."""
    freeze_cursors(pilot.app)
    await pilot.pause()


async def _as_started(pilot: Pilot) -> None:
    await ready(pilot)
    await settle(pilot)


async def send(pilot: Pilot, text: str) -> None:
    composer = pilot.app.screen.query_one(Composer)
    composer.focus()
    composer.set_draft(text)
    await pilot.press("enter")


def snapshot(snap_compare, services, size=SNAPSHOT_SIZE, run_before=_as_started) -> bool:
    try:
        return snap_compare(make_app(services), terminal_size=size, run_before=run_before)
    finally:
        services.close()


# -- at rest ----------------------------------------------------------------------------------

def test_main_screen(snap_compare, tmp_path):
    assert snapshot(snap_compare, seeded_services(tmp_path))


def test_main_screen_80x24(snap_compare, tmp_path):
    assert snapshot(snap_compare, seeded_services(tmp_path), size=(80, 24))


def test_main_screen_60x20(snap_compare, tmp_path):
    assert snapshot(snap_compare, seeded_services(tmp_path), size=(60, 20))


def test_first_run_screen(snap_compare, tmp_path):
    assert snapshot(snap_compare, make_services(tmp_path, None))


def test_first_run_screen_80x24(snap_compare, tmp_path):
    assert snapshot(snap_compare, make_services(tmp_path, None), size=(80, 24))


def test_help_screen(snap_compare, tmp_path):
    async def open_help(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f1")
        await pilot.pause()
        await settle(pilot)

    assert snapshot(snap_compare, seeded_services(tmp_path), size=(100, 50),
                    run_before=open_help)


# -- live states ------------------------------------------------------------------------------

def test_streaming_reply_mid_way(snap_compare, tmp_path, fake_openai):
    # Paced as a real stream; where it is held (HOLD_AFTER) makes the screen the same however
    # the tokens were gathered into screen updates.
    fake_openai.script(Script.reply(LONG_REPLY, hold_after=HOLD_AFTER, tps=STREAM_TPS))
    shown_last = "".join(split_tokens(LONG_REPLY)[:HOLD_AFTER]).split()[-1]

    async def stream_half(pilot: Pilot) -> None:
        await ready(pilot)
        await send(pilot, "Squares of 0-9 in Python, two ways?")
        await wait_until(pilot, fake_openai.holding.is_set, what="the held stream")
        await wait_until(pilot, lambda: shown_last in screen_text(pilot.app),
                         what=f"{shown_last!r} on screen")
        # Both of the reply's code blocks numbered, the closed one and the open one (the
        # chat's first reply, with a #1 of its own, has scrolled out of view).
        await wait_until(pilot, lambda: all(label in screen_text(pilot.app)
                                            for label in ("#1 python", "#2 python")),
                         what="the reply's code blocks numbered")
        await settle(pilot)

    assert snapshot(snap_compare, seeded_services(tmp_path, fake_openai.base_url),
                    run_before=stream_half)


def test_error_in_the_chat(snap_compare, tmp_path, fake_openai):
    # An error whose text does not name the server (its port differs on every run). It comes
    # a moment after the request, as from a real server: an instant failure can overtake the
    # screen's handling of the stored user message (reported race: the composer then keeps
    # the sent text), and this snapshot is about how the error looks.
    error = Script.http_error(
        400, "Invalid value for 'messages[1].content': the text contains an unpaired "
        "surrogate.", "invalid_request_error", param="messages[1].content")
    error.first_byte_delay = 0.2
    fake_openai.script(error)

    async def fail(pilot: Pilot) -> None:
        await ready(pilot)
        await send(pilot, "Are you there?")
        composer = pilot.app.screen.query_one(Composer)
        await wait_until(pilot, lambda: "unpaired" in screen_text(pilot.app)
                         and not composer.text, what="the error, and the draft sent")
        await settle(pilot)

    assert snapshot(snap_compare, seeded_services(tmp_path, fake_openai.base_url),
                    run_before=fail)


def test_search_results(snap_compare, tmp_path):
    async def search(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("ctrl+f", *"question")
        await wait_until(pilot, lambda: screen_text(pilot.app).count("question") > 2,
                         what="the hits")
        await settle(pilot)

    assert snapshot(snap_compare, seeded_services(tmp_path), run_before=search)


# -- issue 12: numbered code blocks, a collapsed paste --------------------------------------

def test_reply_with_numbered_code_blocks(snap_compare, tmp_path):
    services = seeded_services(tmp_path)
    seed_conversation(services.store, "Squares, two ways", updated="2026-03-02T11:59:00.000Z",
                      text=lambda i: ("Squares of 0-9 in Python, two ways?", LONG_REPLY))
    assert snapshot(snap_compare, services, size=(100, 40))


def test_composer_with_a_paste_chip(snap_compare, tmp_path):
    from textual import events

    async def paste(pilot: Pilot) -> None:
        await ready(pilot)
        composer = pilot.app.screen.query_one(Composer)
        composer.focus()
        composer.insert("Why does this fail? ")
        pilot.app.post_message(events.Paste("\n".join(
            f"2026-03-02 11:{i // 60:02d}:{i % 60:02d} worker[{i}] retrying" for i in range(1243))))
        await wait_until(pilot, lambda: "[pasted" in composer.text, what="the chip")
        composer.insert(" (the log above)")
        await settle(pilot)

    assert snapshot(snap_compare, seeded_services(tmp_path), run_before=paste)


def test_composer_with_attachment_chips(snap_compare, tmp_path):
    from tui.core.attachments import ImageFile, TextFile

    async def attach(pilot: Pilot) -> None:
        await ready(pilot)
        composer = pilot.app.screen.query_one(Composer)
        composer.focus()
        composer.insert("Why does ")
        composer.attach(TextFile("src/retry.py", "def retry():\n    pass\n" * 60))
        composer.insert(" fail on ")
        composer.attach(ImageFile("trace.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(45_000)))
        composer.insert("?")
        # The meter reads the draft on a throttle: wait for the reading with the file in it.
        status = pilot.app.screen.status
        await wait_until(pilot, lambda: status.reading is not None and status.reading.tokens > 500,
                         what="the meter counting the attached file")
        await settle(pilot)

    assert snapshot(snap_compare, seeded_services(tmp_path), run_before=attach)
