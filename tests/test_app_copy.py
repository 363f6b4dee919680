"""Pilot tests of copying: which path a copy takes (checked by capturing what the app
writes to the terminal), numbered code blocks and the keys, picker and palette entries
that copy them, Markdown source or plain text."""

from __future__ import annotations

import stat

import pytest

from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.clipboard import osc52, screen_chunks
from tui.core.models import Role
from tui.ui.screens.code_picker import CodePickerScreen
from tui.ui.widgets.message_blocks import AssistantBlock

REPLY = """Here is **the plan**:

```python
print("one")
```

Then:

```sh
echo two
```"""


@pytest.fixture
def terminal_env(monkeypatch, tmp_path):
    """No multiplexer, no display: the copy can only go as OSC 52. Returns a bin folder
    put first on PATH, for stand-in tools."""
    for name in ("TMUX", "STY", "DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    return folder


@pytest.fixture
async def services(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    conversation = services.store.create_conversation(model="gpt-4o-mini", title="Code")
    services.store.append_message(conversation.id, Role.USER, "show me")
    services.store.append_message(conversation.id, Role.ASSISTANT, REPLY, model="gpt-4o-mini")
    yield services
    await services.aclose()


def capture_terminal(app) -> list[str]:
    """Everything the app writes to the terminal from now on."""
    written: list[str] = []
    driver = app._driver
    original = driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    driver.write = write
    return written


def notifications(app) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def copied(pilot, app, count: int = 1) -> list[tuple[str, str]]:
    await wait_until(pilot, lambda: len(notifications(app)) >= count, what="the copy notice")
    return notifications(app)


async def test_osc52_is_written_and_the_notice_does_not_claim_a_copy(services, terminal_env):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        written = capture_terminal(app)
        await pilot.press("ctrl+y")
        (message, severity), = await copied(pilot, app)
        assert osc52(REPLY) in "".join(written)
        assert "sent" in message.lower() and "(OSC 52)" in message
        assert "Copied" not in message and severity == "information"


async def test_inside_screen_the_sequence_goes_in_chunks(services, terminal_env, monkeypatch):
    monkeypatch.setenv("STY", "4242.pts-1.host")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        written = capture_terminal(app)
        await pilot.press("ctrl+y")
        (message, _), = await copied(pilot, app)
        assert screen_chunks(osc52(REPLY)) in "".join(written)
        assert "GNU screen" in message


def fake_tool(folder, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


async def test_a_display_tool_copies_and_nothing_goes_to_the_terminal(
        services, terminal_env, monkeypatch, tmp_path):
    out = tmp_path / "clipboard.txt"
    fake_tool(terminal_env, "wl-copy", f'cat > "{out}"')
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        written = capture_terminal(app)
        await pilot.press("ctrl+o", "y")  # the focused reply's last code block
        (message, severity), = await copied(pilot, app)
        assert out.read_text() == "echo two"
        assert message == "Copied 8 characters with wl-copy." and severity == "information"
        assert "\x1b]52" not in "".join(written)


async def test_a_failing_tool_is_an_error(services, terminal_env, monkeypatch):
    fake_tool(terminal_env, "wl-copy", "echo 'no compositor' >&2; exit 1")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+y")
        (message, severity), = await copied(pilot, app)
        assert severity == "error" and "wl-copy failed (no compositor)" in message


async def test_code_blocks_are_numbered_and_copied_by_number(services, terminal_env):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "#1 python" in text and "#2 sh" in text
        await pilot.press("ctrl+o")
        assert isinstance(app.focused, AssistantBlock)
        await pilot.press("1")
        assert app.clipboard == 'print("one")'
        await pilot.press("y")
        assert app.clipboard == "echo two"
        await pilot.press("3")
        await wait_until(pilot, lambda: any("there is no #3" in m for m, _ in
                                            notifications(app)), what="no #3")


async def test_the_picker_copies_a_block_by_digit_or_enter(services, terminal_env):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("alt+y")
        assert isinstance(app.screen, CodePickerScreen)
        await pilot.press("enter")  # the highlighted one: the last
        assert app.clipboard == "echo two"
        await pilot.press("alt+y", "1")
        assert not isinstance(app.screen, CodePickerScreen)
        assert app.clipboard == 'print("one")'


async def test_the_palette_lists_the_code_blocks(services, terminal_env):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Copy code block #1 python: print(\"one\")" in commands
        commands["Copy code block #2 sh: echo two"].callback()
        await pilot.pause()
        assert app.clipboard == "echo two"
        assert "Copy reply as plain text" in commands


async def test_copy_as_markdown_source_or_plain_text(services, terminal_env):
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o", "c")
        assert app.clipboard == REPLY
        await pilot.press("C")
        assert app.clipboard == 'Here is the plan:\n\nprint("one")\n\nThen:\n\necho two'


async def test_code_blocks_are_numbered_while_they_stream():
    from textual.app import App as TextualApp

    from tests.test_app_support import wait_until as wait
    from tui.ui.widgets.streaming_markdown import StreamingMarkdown

    class One(TextualApp):
        def compose(self):
            yield StreamingMarkdown("")

    app = One()
    async with app.run_test(size=(60, 30)) as pilot:
        markdown = app.query_one(StreamingMarkdown)
        for piece in ("Intro\n\n```py\na = 1\n```\n\nThen:\n\n", "```sh\necho one\n",
                      "echo two\n"):
            markdown.append(piece)
            await pilot.pause()
        await wait(pilot, lambda: "echo two" in screen_text(app), what="the open fence")
        text = screen_text(app)
        assert "#1 py" in text and "#2 sh" in text  # the open fence has its number already
        markdown.append("```\n\n```\nthird\n```\n")
        markdown.finish()
        await markdown.painted()  # the screen is held meanwhile: what it shows is not painted
        await wait(pilot, lambda: "#3" in screen_text(app), what="the third block")
        assert "#2 sh" in screen_text(app)
