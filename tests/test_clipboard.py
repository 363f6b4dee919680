"""The clipboard path (tui.core.clipboard) and the numbered code blocks (tui.core.code_blocks).

Tools are real programs: small scripts put first on PATH stand in for wl-copy and tmux.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from tui.core.clipboard import (
    SCREEN_CHUNK,
    copy_text,
    osc52,
    screen_chunks,
    system_tool,
    tmux_passthrough,
)
from tui.core.code_blocks import code_blocks, plain_text

CLEAN = {"PATH": "/nonexistent"}


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_osc52_carries_the_text_in_base64():
    sequence = osc52("héllo ✓")
    assert sequence.startswith("\x1b]52;c;") and sequence.endswith("\a")
    assert base64.b64decode(sequence[7:-1]).decode() == "héllo ✓"


def test_tmux_passthrough_doubles_every_escape():
    wrapped = tmux_passthrough(osc52("x"))
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]52;c;") and wrapped.endswith("\a\x1b\\")


def test_screen_gets_the_sequence_in_short_dcs_chunks():
    sequence = osc52("y" * 500)
    wrapped = screen_chunks(sequence)
    chunks = wrapped.split("\x1b\\")[:-1]
    assert all(chunk.startswith("\x1bP") and len(chunk) - 2 <= SCREEN_CHUNK for chunk in chunks)
    assert "".join(chunk[2:] for chunk in chunks) == sequence
    assert len(chunks) > 1


@pytest.mark.parametrize("env, platform, installed, expected", [
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", {"wl-copy"}, "wl-copy"),
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux", {"xclip"}, "xclip"),
    ({"DISPLAY": ":0"}, "linux", {"xsel"}, "xsel"),
    ({}, "linux", {"wl-copy", "xclip"}, None),  # no display: over SSH, or a console
    ({"DISPLAY": ":0"}, "linux", set(), None),
    ({}, "darwin", {"pbcopy"}, "pbcopy"),
    ({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "darwin", {"pbcopy"}, None),
])
def test_a_system_tool_only_with_a_display_it_can_reach(env, platform, installed, expected):
    tool = system_tool(env, platform=platform,
                       which=lambda name: f"/usr/bin/{name}" if name in installed else None)
    assert (os.path.basename(tool[0]) if tool else None) == expected


def test_no_tool_no_multiplexer_says_sent_not_copied():
    result = copy_text("abc", CLEAN, platform="linux")
    assert result.path == "osc52" and result.sequence == osc52("abc")
    assert "OSC 52" in result.message and "Copied" not in result.message


def test_screen_wraps_the_sequence():
    result = copy_text("abc", {**CLEAN, "STY": "123.pts-0.host"}, platform="linux")
    assert result.path == "screen" and result.sequence == screen_chunks(osc52("abc"))


def test_a_working_tool_copies_and_says_so(tmp_path):
    out = tmp_path / "clipboard.txt"
    script(tmp_path, "wl-copy", f'cat > "{out}"')
    env = {"PATH": str(tmp_path), "WAYLAND_DISPLAY": "wayland-0"}
    result = copy_text("print('hi')\n", env, platform="linux")
    assert result.ok and result.path == "wl-copy" and result.sequence == ""
    assert result.message == "Copied 12 characters with wl-copy."
    assert out.read_text() == "print('hi')\n"


def test_a_failing_tool_is_an_error_and_falls_back_to_osc52(tmp_path):
    script(tmp_path, "wl-copy", 'echo "Failed to connect to a Wayland server" >&2; exit 1')
    env = {"PATH": str(tmp_path), "WAYLAND_DISPLAY": "wayland-0"}
    result = copy_text("abc", env, platform="linux")
    assert not result.ok
    assert "wl-copy failed (Failed to connect to a Wayland server)" in result.message
    assert result.sequence == osc52("abc")


def test_a_tool_leaving_a_child_behind_does_not_hang(tmp_path):
    # wl-copy and xclip fork a child that keeps serving the selection.
    script(tmp_path, "wl-copy", "cat > /dev/null; (sleep 8 &) ; exit 0")
    env = {"PATH": str(tmp_path) + os.pathsep + os.environ["PATH"], "WAYLAND_DISPLAY": "w"}
    result = copy_text("abc", env, platform="linux")
    assert result.ok and result.path == "wl-copy"


@pytest.mark.parametrize("value, path, ok", [("on", "tmux", True),
                                             ("off", "tmux-passthrough", False),
                                             ("external", "tmux-passthrough", False)])
def test_tmux_set_clipboard_decides_plain_or_passthrough(tmp_path, value, path, ok):
    script(tmp_path, "tmux", f'[ "$*" = "show -gv set-clipboard" ] && echo {value}')
    env = {"PATH": str(tmp_path), "TMUX": "/tmp/tmux-0/default,1,0"}
    result = copy_text("abc", env, platform="linux")
    assert (result.path, result.ok) == (path, ok)
    if ok:
        assert result.sequence == osc52("abc") and "tmux's buffer" in result.message
    else:
        assert result.sequence == tmux_passthrough(osc52("abc"))
        assert f"set-clipboard is {value}" in result.message
        assert "set -g set-clipboard on" in result.message


REPLY = """Two ways:

```python
a = 1
```

1. In a list:

   ```sh
   echo hi
   ```

    indented code

~~~
last
~~~
"""


def test_code_blocks_are_numbered_in_document_order_nested_ones_too():
    blocks = code_blocks(REPLY)
    assert [(b.number, b.language, b.code) for b in blocks] == [
        (1, "python", "a = 1"), (2, "sh", "echo hi"), (3, "", "last")]
    assert blocks[0].title == "#1 python: a = 1"


def test_plain_text_drops_the_markup_and_keeps_the_words():
    text = plain_text("A **bold** [link](http://x) and `code`.\n\n- one\n- two\n\n"
                      "| a | b |\n|---|---|\n| 1 | 2 |\n\n```py\nx = 1\n```")
    assert text == "A bold link and code.\n\n- one\n- two\n\na\tb\n1\t2\n\nx = 1"
