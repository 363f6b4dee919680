"""Chips in the composer stand out from typed text: paste and attachment chips in their own
style, an image chip with no image behind it (a draft kept by an older version) struck
through (sending it is refused) and named in a warning when the draft comes back, and typed
text stays plain. A draft kept over a restart keeps its images."""

from __future__ import annotations

import base64

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, seed_conversation, wait_until
from tui.core.attachments import ImageFile, TextFile

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
async def services(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    yield services
    await services.aclose()


def styles_of(composer, text: str) -> set[tuple]:
    """(colour, background, strike) of each cell the screen shows ``text`` in."""
    for strip in composer.app.screen._compositor.render_strips():
        line = strip.text
        if text in line:
            start = line.index(text)
            cells, at = set(), 0
            for segment in strip:
                if start <= at < start + len(text) or (
                        at < start < at + len(segment.text)):
                    style = segment.style
                    cells.add((style.color, style.bgcolor, bool(style.strike)))
                at += len(segment.text)
            return cells
    raise AssertionError(f"{text!r} is not on screen")


def warnings(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


def look(style) -> tuple:
    return (style.color, style.bgcolor, bool(style.strike))


async def test_attachment_and_paste_chips_are_styled_typed_text_is_not(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        composer.insert("see ")
        image = composer.attach(ImageFile("cat.png", "image/png", PNG))
        composer.insert(" and ")
        file = composer.attach(TextFile("notes.txt", "remember\n"))
        composer.insert(" typed")
        await pilot.pause()
        chip = composer.get_component_rich_style("composer--chip", partial=True)
        assert chip.color is not None and chip.bgcolor is not None
        for label in (image, file):
            assert styles_of(composer, label) == {look(chip)}, label
        assert look(chip) not in styles_of(composer, "see") | styles_of(composer, "typed")


async def test_an_image_chip_without_its_image_is_struck_through(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        composer.set_draft("look [image cat.png · 72 B]")  # a chip with no image
        await pilot.pause()
        missing = composer.get_component_rich_style("composer--chip-missing", partial=True)
        assert missing.strike
        # Its colour and a strike-through, on the line's own background.
        shown = {(color, strike) for color, _, strike in
                 styles_of(composer, "[image cat.png · 72 B]")}
        assert shown == {(missing.color, True)}
        assert all(not strike for _, _, strike in styles_of(composer, "look"))


async def test_a_draft_keeps_its_image_over_a_restart(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    chat = seed_conversation(services.store, "Pics", updated="2026-03-02T09:00:00.000Z")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.is_open(chat.id))
        composer = app.main.composer
        composer.insert("look ")
        chip = composer.attach(ImageFile("cat.png", "image/png", PNG))
        await pilot.pause()
    await services.aclose()  # quitting keeps the draft, its image with it

    services = make_services(tmp_path, fake_openai.base_url)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            composer = app.main.composer
            await wait_until(pilot, lambda: composer.text == f"look {chip}", what="the draft")
            assert composer.images == [ImageFile("cat.png", "image/png", PNG)]
            assert composer.orphan_images() == [] and not warnings(app)
            fake_openai.script(Script.reply("a cat"))
            await pilot.press("enter")
            await wait_until(pilot, lambda: fake_openai.chat_requests(), what="the request")
            parts = fake_openai.chat_requests()[-1]["messages"][-1]["content"]
            url = "data:image/png;base64," + base64.b64encode(PNG).decode()
            assert {"type": "image_url", "image_url": {"url": url}} in parts
            await wait_until(pilot, lambda: not app.main.streams, what="the reply")
            await app.workers.wait_for_complete()
        # Sent: the draft is spent, its image too.
        assert services.store.get_draft(chat.id) == ""
        assert services.store.get_draft_images(chat.id) == {}
    finally:
        await services.aclose()


async def test_a_kept_draft_without_its_image_says_the_image_is_gone(tmp_path):
    # A draft kept by a build that kept text only: the chip has no image behind it.
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    chat = seed_conversation(services.store, "Pics", updated="2026-03-02T09:00:00.000Z")
    chip = "[image cat.png · 72 B]"
    services.store.set_draft(chat.id, f"look {chip}")
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            composer = app.main.composer
            await wait_until(pilot, lambda: composer.text == f"look {chip}", what="the draft")
            await wait_until(pilot, lambda: warnings(app), what="the warning")
            assert warnings(app) == [f"{chip}: the image was not kept with the draft. Attach "
                                     "it again (alt+a) or delete the chip."]
            assert composer.orphan_images() == [chip]
    finally:
        await services.aclose()
