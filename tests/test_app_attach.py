"""Pilot tests of attaching files: the picker and ``@path`` + Tab, text files sent as fenced
blocks (checked at the test server), images as image parts (stored, so a regenerate sends
them again), and files that cannot go refused with the reason."""

from __future__ import annotations

import base64

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.models import Role
from tui.ui.screens.file_picker import FilePickerScreen

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
MAIN = 'print("hello")\n'


@pytest.fixture
def folder(tmp_path, monkeypatch):
    work = tmp_path / "project"
    (work / "src").mkdir(parents=True)
    (work / "src" / "main.py").write_text(MAIN)
    (work / "notes.txt").write_text("remember ```this```\n")
    (work / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    (work / "cat.png").write_bytes(PNG)
    (work / ".git").mkdir()
    (work / ".git" / "config").write_text("hidden")
    monkeypatch.chdir(work)
    return work


@pytest.fixture
async def services(tmp_path, fake_openai, folder):
    services = make_services(tmp_path, fake_openai.base_url)
    chat = services.store.create_conversation(model="gpt-4o-mini", title="Files")
    services.store.append_message(chat.id, Role.USER, "hello")
    services.store.append_message(chat.id, Role.ASSISTANT, "hi")
    yield services
    await services.aclose()


def errors(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def test_picker_attaches_a_text_file_sent_as_a_fenced_block(services, fake_openai):
    fake_openai.script(Script.reply("looks fine"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        composer.insert("Review ")
        await pilot.press("alt+a")
        assert isinstance(app.screen, FilePickerScreen)
        picker = app.screen
        await wait_until(pilot, lambda: picker._files, what="the file list")
        assert ".git/config" not in picker._files and "src/main.py" in picker._files
        await pilot.press(*"mainpy", "enter")
        await wait_until(pilot, lambda: "[file" in composer.text, what="the chip")
        assert composer.text == "Review [file src/main.py · 15 B]"
        assert "[file src/main.py · 15 B]" in screen_text(app)
        await wait_until(pilot, lambda: app.main.meter is not None, what="the meter")
        meter = app.main.meter
        # The file counts on the meter before sending.
        await wait_until(pilot, lambda: app.main.status.reading == meter.reading(
            composer.full_text), what="the meter to count the file")
        assert meter.reading(composer.full_text).tokens > meter.reading("Review ").tokens
        await pilot.press("enter")
        await wait_until(pilot, lambda: fake_openai.chat_requests(), what="the request")
        sent = fake_openai.chat_requests()[0]["messages"][-1]["content"]
        assert sent == f'Review\n\nsrc/main.py:\n\n```python\n{MAIN}```'


async def test_text_typed_after_a_files_chip_stays_out_of_its_block(services, fake_openai):
    """Typed on the chip's line, the text was glued to the closing fence ("```Summarize
    it"): that line no longer closes the block, and the question became part of the file
    (seen in tmux against llama-server)."""
    fake_openai.script(Script.reply("noted"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await pilot.press("alt+a")
        picker = app.screen
        await wait_until(pilot, lambda: picker._files, what="the file list")
        await pilot.press(*"notes", "enter")
        await wait_until(pilot, lambda: "[file" in composer.text, what="the chip")
        await pilot.press(*" Summarize it.")
        assert composer.text == "[file notes.txt · 20 B] Summarize it."
        await pilot.press("enter")
        await wait_until(pilot, lambda: fake_openai.chat_requests(), what="the request")
        sent = fake_openai.chat_requests()[0]["messages"][-1]["content"]
        assert sent == "notes.txt:\n\n````\nremember ```this```\n````\n\nSummarize it."


async def test_at_path_and_tab_attaches_the_best_match(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await pilot.press(*"see @nots", "tab")
        await wait_until(pilot, lambda: "[file" in composer.text, what="the chip")
        assert composer.text == "see [file notes.txt · 20 B]"
        # The file's own backticks cannot close the block early.
        assert "````\nremember ```this```\n````" in composer.full_text


async def test_a_binary_file_is_refused_and_nothing_changes(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await pilot.press(*"@blob.bin", "tab")
        await wait_until(pilot, lambda: errors(app), what="the refusal")
        assert "blob.bin is binary, not text; not attached" in errors(app)[0]
        assert composer.text == "@blob.bin" and composer.images == []


async def test_an_image_goes_as_an_image_part_and_is_sent_again(services, fake_openai):
    fake_openai.script(Script.reply("a cat"), Script.reply("still a cat"))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await pilot.press(*"What is this? @cat.png", "tab")
        await wait_until(pilot, lambda: composer.images, what="the image chip")
        assert composer.text == "What is this? [image cat.png · 72 B]"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "a cat" in screen_text(app), what="the reply")
        url = "data:image/png;base64," + base64.b64encode(PNG).decode()
        content = fake_openai.chat_requests()[0]["messages"][-1]["content"]
        assert content == [{"type": "text", "text": "What is this? [image cat.png · 72 B]"},
                           {"type": "image_url", "image_url": {"url": url}}]
        await pilot.press("ctrl+r")  # regenerate: the stored image goes again
        await wait_until(pilot, lambda: len(fake_openai.chat_requests()) == 2,
                         what="the second request")
        assert fake_openai.chat_requests()[1]["messages"][-1]["content"] == content


async def test_a_server_that_rejects_images_gets_a_clear_error_and_the_message_stays(
        services, fake_openai):
    fake_openai.script(Script.http_error(
        400, "Invalid content type. image_url is only supported by certain models.",
        "invalid_request_error"))
    services.client.max_retries = 0
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await pilot.press(*"and this? @cat.png", "tab")
        await wait_until(pilot, lambda: composer.images, what="the image chip")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "only supported by certain models" in " ".join(
            screen_text(app).split()), what="the server's error")
        assert "and this? [image cat.png · 72 B]" in screen_text(app)
        stored = services.store.load_messages(app.main.conversation.id)
        user = next(m for m in stored if m.content.startswith("and this?"))
        assert [i.name for i in services.store.images_for([user.id])[user.id]] == ["cat.png"]


async def test_a_bare_at_and_tab_opens_the_picker(services):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        await pilot.press(*"see @", "tab")
        assert isinstance(app.screen, FilePickerScreen)
        picker = app.screen
        await wait_until(pilot, lambda: picker._files, what="the file list")
        await pilot.press(*"notes", "enter")
        await wait_until(pilot, lambda: "[file" in composer.text, what="the chip")
        assert composer.text == "see [file notes.txt · 20 B]"


async def test_an_image_chip_without_its_image_is_not_sent(services, fake_openai):
    # What a draft kept over a restart looks like: the chip's text, no image.
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        composer = app.main.composer
        composer.set_draft("look [image cat.png · 72 B]")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app._notifications, what="the warning")
        assert "is no longer attached" in list(app._notifications)[-1].message
        assert composer.text == "look [image cat.png · 72 B]"
        assert fake_openai.chat_requests() == []
