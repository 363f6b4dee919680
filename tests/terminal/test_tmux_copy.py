"""Issue 12: copying a code block inside tmux (``set-clipboard on``) lands in tmux's buffer.

The installed ``gpt-tui`` runs in a pane of a private tmux server (its own socket, no
config file); keys go in with ``send-keys``, the screen comes back with ``capture-pane``,
and what the copy did is read with ``show-buffer``: tmux keeps an OSC 52 copy as a paste
buffer when ``set-clipboard`` is on. Skipped where tmux is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script

CODE = 'print("copied through tmux")'
REPLY = f"Try this:\n\n```python\nimport sys\n```\n\nand then:\n\n```python\n{CODE}\n```\n\nDone."
TIMEOUT = 20.0


class Tmux:
    """A private tmux server running one command in a detached 100x30 session."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.socket = f"gpt-tui-test-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.run("-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30",
                 "-c", str(cwd), *command)

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], env=self.env,
                              capture_output=True, text=True, timeout=10, check=False)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p")

    def wait(self, predicate, what: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.screen()}")
            time.sleep(0.05)  # polling tmux, a separate process: no event to wait on

    def close(self) -> None:
        # tmux leaves its socket file behind on kill-server: one in /tmp/tmux-UID per run.
        socket_path = self.run("display-message", "-p", "#{socket_path}").strip()
        self.run("kill-server")
        if socket_path:
            Path(socket_path).unlink(missing_ok=True)


@pytest.fixture
def tmux_app(gpt_tui_bin, fake_openai, tmp_path, isolated_env):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "GPT_TUI_", "TEXTUAL", "TMUX", "STY"))}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "COLUMNS", "LINES"):
        env.pop(name, None)  # no display tool: the copy must go as OSC 52
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               OPENAI_BASE_URL=fake_openai.base_url,
               XDG_STATE_HOME=str(isolated_env / "state"))
    session = Tmux([str(gpt_tui_bin), "--db", str(tmp_path / "chats.db")], env, tmp_path)
    try:
        yield session
    finally:
        session.close()


def test_a_code_block_copied_inside_tmux_lands_in_its_buffer(tmux_app, fake_openai):
    tmux = tmux_app
    tmux.run("set", "-g", "set-clipboard", "on")
    fake_openai.script(Script.reply(REPLY))
    tmux.wait(lambda: "Message…" in tmux.screen(), "the composer")
    tmux.run("send-keys", "-l", "show me")
    tmux.run("send-keys", "Enter")
    tmux.wait(lambda: "Done." in tmux.screen(), "the reply")
    assert "#2 python" in tmux.screen()
    tmux.run("send-keys", "C-o")
    tmux.run("send-keys", "-l", "y")  # the focused reply's last code block
    buffer = tmux.wait(lambda: tmux.run("show-buffer"), "tmux's paste buffer")
    assert buffer == CODE
    tmux.wait(lambda: "set-clipboard on" in " ".join(tmux.screen().split()), "the notice")


def test_with_set_clipboard_off_the_notice_says_how_to_turn_it_on(tmux_app, fake_openai):
    tmux = tmux_app
    tmux.run("set", "-g", "set-clipboard", "off")
    fake_openai.script(Script.reply(REPLY))
    tmux.wait(lambda: "Message…" in tmux.screen(), "the composer")
    tmux.run("send-keys", "-l", "show me")
    tmux.run("send-keys", "Enter")
    tmux.wait(lambda: "Done." in tmux.screen(), "the reply")
    tmux.run("send-keys", "C-y")
    screen = tmux.wait(lambda: "set-clipboard on" in " ".join(tmux.screen().split())
                       and tmux.screen(), "the hint")
    assert "set-clipboard is off" in " ".join(screen.split())
    assert tmux.run("list-buffers") == ""  # tmux kept nothing: the notice did not claim it
