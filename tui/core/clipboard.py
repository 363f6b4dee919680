"""How a copy reaches the user's clipboard, and what can honestly be said about it.

A terminal app has two ways to the clipboard:

* OSC 52: an escape sequence asking the terminal to set its clipboard. It works over SSH,
  but the app never learns whether the terminal obeyed (many ask first, some refuse), and
  a multiplexer in between eats it unless it is told to pass it on: tmux only with
  ``set-clipboard on`` (then tmux keeps a buffer and forwards the sequence), or as a DCS
  passthrough when ``allow-passthrough`` is on; GNU screen only inside DCS strings, which
  it limits in length, so the sequence goes in chunks.
* the system tool (wl-copy, xclip, xsel, pbcopy) when there is a display it can reach: its
  exit status tells whether the copy happened.

:func:`copy_text` picks the path, runs what has to run (it blocks: call it from a thread)
and returns the bytes to write to the terminal plus a message that claims no more than
is known.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Mapping

TOOL_TIMEOUT = 5.0
# GNU screen drops DCS strings longer than its buffer (768 bytes by default): chunk well under.
SCREEN_CHUNK = 76
# Sizes past which terminals are known to drop OSC 52 (xterm's default limit is about 100 kB
# of base64; tmux and others vary): said in the notification, the sequence is sent anyway.
OSC52_LARGE = 100_000
TMUX_HINT = ("tmux's set-clipboard is {value}: the copy was sent as a passthrough, which "
             "only reaches the terminal with allow-passthrough on. For reliable copies add "
             "`set -g set-clipboard on` to ~/.tmux.conf.")


@dataclass(frozen=True)
class CopyResult:
    """What happened: ``sequence`` is to be written to the terminal (may be empty);
    ``message`` is for the user, ``ok`` False when the copy is known to have failed or
    is likely lost (then ``message`` says what to do)."""

    path: str  # "osc52", "tmux", "tmux-passthrough", "screen" or a tool's name
    sequence: str
    message: str
    ok: bool = True
    notes: list[str] = field(default_factory=list)


def osc52(text: str) -> str:
    """The plain OSC 52 "set clipboard" sequence for ``text``."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"\x1b]52;c;{payload}\a"


def tmux_passthrough(sequence: str) -> str:
    """``sequence`` inside tmux's DCS passthrough (every ESC in it doubled)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def screen_chunks(sequence: str, size: int = SCREEN_CHUNK) -> str:
    """``sequence`` as consecutive DCS strings of at most ``size`` characters for GNU screen,
    which passes a DCS string's content to the terminal as it is."""
    return "".join(f"\x1bP{sequence[i:i + size]}\x1b\\" for i in range(0, len(sequence), size))


def system_tool(env: Mapping[str, str], *, platform: str = sys.platform,
                which: Callable[[str], str | None] | None = None) -> list[str] | None:
    """The clipboard tool's command line, if one is installed and has a display to reach.

    Wayland and X11 tools need ``WAYLAND_DISPLAY`` / ``DISPLAY`` (over SSH, only a forwarded
    display sets them, and then it is the user's); pbcopy copies on the Mac it runs on, so
    not over SSH. The command's first word is the tool's full path (looked up on
    ``env``'s PATH).
    """
    if which is None:
        def which(name: str) -> str | None:
            return shutil.which(name, path=env.get("PATH"))
    candidates: list[list[str]] = []
    if env.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if env.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard", "-in"],
                       ["xsel", "--clipboard", "--input"]]
    if platform == "darwin" and not (env.get("SSH_CONNECTION") or env.get("SSH_TTY")):
        candidates.append(["pbcopy"])
    for name, *arguments in candidates:
        found = which(name)
        if found:
            return [found, *arguments]
    return None


def tool_name(command: list[str]) -> str:
    return os.path.basename(command[0])


def run_tool(command: list[str], text: str) -> str | None:
    """Run the tool with ``text`` on its input: None if it worked, else why not.

    Its output goes to a file, not a pipe: wl-copy and xclip leave a child behind that
    serves the selection, and a pipe it inherited would never reach end-of-file.
    """
    with tempfile.TemporaryFile() as errors:
        try:
            done = subprocess.run(command, input=text.encode("utf-8"),
                                  stdout=subprocess.DEVNULL, stderr=errors,
                                  timeout=TOOL_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return f"no answer after {TOOL_TIMEOUT:g} s"
        except OSError as error:
            return error.strerror or str(error)
        if done.returncode == 0:
            return None
        errors.seek(0)
        said = errors.read(2000).decode("utf-8", "replace").strip().splitlines()
        return said[-1] if said else f"exit status {done.returncode}"


def tmux_set_clipboard(env: Mapping[str, str]) -> str | None:
    """The value of tmux's ``set-clipboard`` option (on / external / off), None if unknown."""
    tmux = shutil.which("tmux", path=env.get("PATH"))
    if tmux is None:
        return None
    try:
        done = subprocess.run([tmux, "show", "-gv", "set-clipboard"], capture_output=True,
                              text=True, timeout=TOOL_TIMEOUT, check=False, env=dict(env))
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def _size_note(sequence: str) -> list[str]:
    if len(sequence) > OSC52_LARGE:
        return [f"it is {len(sequence):,} bytes encoded; some terminals drop OSC 52 copies "
                "that large"]
    return []


def _terminal_copy(text: str, env: Mapping[str, str]) -> CopyResult:
    sequence = osc52(text)
    count = f"{len(text):,} characters"
    notes = _size_note(sequence)
    if env.get("TMUX"):
        value = tmux_set_clipboard(env)
        if value == "on":
            return CopyResult("tmux", sequence,
                              f"Sent {count} to tmux (OSC 52, set-clipboard on): in tmux's "
                              "buffer, and in the terminal's clipboard if it accepts OSC 52.",
                              notes=notes)
        return CopyResult("tmux-passthrough", tmux_passthrough(sequence),
                          TMUX_HINT.format(value=value or "unknown"), ok=False, notes=notes)
    if env.get("STY"):
        return CopyResult("screen", screen_chunks(sequence),
                          f"Sent {count} through GNU screen to the terminal (OSC 52); it "
                          "copies them if it accepts OSC 52.", notes=notes)
    return CopyResult("osc52", sequence,
                      f"Sent {count} to the terminal (OSC 52); it copies them if it accepts "
                      "OSC 52.", notes=notes)


def copy_text(text: str, env: Mapping[str, str] | None = None, *,
              platform: str = sys.platform) -> CopyResult:
    """Copy ``text`` the best way available (blocks: runs the tool or asks tmux)."""
    env = os.environ if env is None else env
    tool = system_tool(env, platform=platform)
    if tool is None:
        return _terminal_copy(text, env)
    failure = run_tool(tool, text)
    name = tool_name(tool)
    if failure is None:
        return CopyResult(name, "", f"Copied {len(text):,} characters with {name}.")
    fallback = _terminal_copy(text, env)
    return CopyResult(fallback.path, fallback.sequence,
                      f"{name} failed ({failure}). {fallback.message}", ok=False,
                      notes=fallback.notes)
