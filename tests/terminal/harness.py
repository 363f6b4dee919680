"""Run the installed ``gpt-tui`` in a real pseudo-terminal and read its screen back.

The Pilot tests drive the app inside the test process, where keys arrive as events and the
screen is a data structure. Here the app is the console script a user runs: its own process,
a real tty (termios, SIGWINCH, the escape-sequence parser with its timing), and a terminal
emulator (pyte) turning its output back into rows of text. Keys are the bytes a terminal
sends. Every wait polls the emulated screen until a condition holds, with a deadline: no
fixed sleeps.

Like most current terminals (kitty, WezTerm, iTerm2, foot, tmux 3.4+), the harness answers
the app's query for synchronized output (mode 2026), so the app brackets each frame, and the
screen only ever shows whole frames: a half-written frame is never read back.
"""

from __future__ import annotations

import base64
import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pyte

# Bytes real terminals send (xterm, tmux, GNOME Terminal, iTerm2 with default settings).
ENTER = b"\r"
ALT_ENTER = b"\x1b\r"            # Alt/Meta sends ESC before the key
SHIFT_ENTER_KITTY = b"\x1b[13;2u"  # Shift+Enter under the Kitty keyboard protocol
ALT_ENTER_KITTY = b"\x1b[13;3u"
SHIFT_ENTER_XTERM = b"\x1b[27;2;13~"  # xterm modifyOtherKeys; tmux with extended-keys
CTRL_B, CTRL_F, CTRL_J, CTRL_L = b"\x02", b"\x06", b"\n", b"\x0c"
CTRL_N, CTRL_Q, CTRL_T = b"\x0e", b"\x11", b"\x14"

DEFAULT_TIMEOUT = 15.0  # generous: a loaded 2-core CI box takes up to ~5 s to a first frame
SYNC_QUERY = b"\x1b[?2026$p"       # DECRQM: is synchronized output supported?
SYNC_REPLY = b"\x1b[?2026;2$y"     # yes (currently off)
FRAME_START, FRAME_END = b"\x1b[?2026h", b"\x1b[?2026l"
# Wraps the console script so the pty becomes the child's controlling terminal (as a login
# shell's would): the kernel then delivers SIGWINCH on a resize, as in a real terminal.
_SPAWN = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
          "os.execv(sys.argv[1], sys.argv[1:])")


def installed_gpt_tui() -> Path:
    """The console script of the environment running the tests (pip install -e '.[test]').

    ``GPT_TUI_TERMINAL_BIN`` points the layer at another build (a wheel in another venv).
    """
    override = os.environ.get("GPT_TUI_TERMINAL_BIN")
    if override:
        return Path(override)
    return Path(sys.executable).parent / ("gpt-tui.exe" if os.name == "nt" else "gpt-tui")


class TerminalTimeout(AssertionError):
    """A condition on the screen did not hold in time; the message shows the screen."""


class Terminal:
    """One ``gpt-tui`` process on a pty of ``columns`` x ``lines``, with a pyte screen."""

    def __init__(self, argv: list[str], *, env: Mapping[str, str], cwd: Path,
                 size: tuple[int, int] = (80, 24)) -> None:
        self.columns, self.lines = size
        self.screen = pyte.Screen(self.columns, self.lines)
        self._stream = pyte.ByteStream(self.screen)
        self._changed = threading.Condition()
        self._eof = False
        # Monotonic times: before the spawn, and when the app first wrote anything.
        self.started = time.monotonic()
        self.first_output: float | None = None
        # When the output that completed the frame now on pyte's screen was read off the pty,
        # and, once wait_until's condition held, that time for the screen it held on: when a
        # terminal had the frame, before pyte (pure Python) took its ~10-30 ms to parse it.
        self.frame_arrived: float | None = None
        self.matched_frame_arrived: float | None = None
        # What wait_until waits for, checked by the parser after each frame it feeds: the
        # frame that first met it, not the newest parsed by the time the waiting thread
        # looked (a frame or two later when frames come faster than pyte parses them).
        self._watch: Callable[[str], object] | None = None
        self._watch_met: float | None = None
        self._held = b""  # output not shown yet: an unfinished frame
        self._in_frame = False
        self._query_tail = b""
        self._output = bytearray()  # every byte the app wrote (escape sequences included)
        master, slave = os.openpty()
        self._master = master
        self._set_winsize(self.columns, self.lines, master)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SPAWN, *argv], stdin=slave, stdout=slave,
                stderr=slave, env=dict(env), cwd=cwd, start_new_session=True,
                close_fds=True)
        finally:
            os.close(slave)
        self._arrivals: list[tuple[float, bytes]] = []  # read, not parsed yet (b"": EOF)
        self._arrivals_ready = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name=f"pty-reader:{self.process.pid}")
        self._parser = threading.Thread(target=self._parse_loop, daemon=True,
                                        name=f"pty-parser:{self.process.pid}")
        self._reader.start()
        self._parser.start()

    # --- output ----------------------------------------------------------------------------

    def _read_loop(self) -> None:
        """Read the pty and answer queries; nothing slower. pyte (pure Python, ~10-30 ms a
        full frame) parses in its own thread, so a frame is timed when it arrives, not when
        the parse of the one before has finished."""
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: the child closed its side
                data = b""
            arrived = time.monotonic()
            if data:
                self._answer_queries(data)
            with self._arrivals_ready:
                self._arrivals.append((arrived, data))
                self._arrivals_ready.notify()
            if not data:
                return

    def _parse_loop(self) -> None:
        while True:
            with self._arrivals_ready:
                while not self._arrivals:
                    self._arrivals_ready.wait()
                chunks = list(self._arrivals)
                self._arrivals.clear()
            for arrived, data in chunks:
                with self._changed:
                    if data:
                        self._output += data
                        if self.first_output is None:
                            self.first_output = arrived
                        shown = self._whole_frames(data)
                        if shown:
                            self._stream.feed(shown)
                            self.frame_arrived = arrived
                            self._check_watch(arrived)
                    else:
                        if self._held:  # the app ended mid-frame: show what it wrote
                            self._stream.feed(self._held)
                        self._eof = True
                    self._changed.notify_all()
                if not data:
                    return

    def _check_watch(self, arrived: float) -> None:
        watch = self._watch
        if watch is not None and self._watch_met is None:
            if watch("\n".join(row.rstrip() for row in self.screen.display)):
                self._watch_met = arrived

    def _answer_queries(self, data: bytes) -> None:
        window = self._query_tail + data
        for _ in range(window.count(SYNC_QUERY)):
            try:
                os.write(self._master, SYNC_REPLY)
            except OSError:
                return
        self._query_tail = window[-(len(SYNC_QUERY) - 1):]

    def _whole_frames(self, data: bytes) -> bytes:
        """What can be shown of the output so far: everything but an unfinished frame."""
        buffer, ready = self._held + data, bytearray()
        while buffer:
            marker = FRAME_END if self._in_frame else FRAME_START
            at = buffer.find(marker)
            if at < 0:
                keep = len(buffer) if self._in_frame else _partial_suffix(buffer, FRAME_START)
                ready += buffer[:len(buffer) - keep]
                self._held = buffer[len(buffer) - keep:]
                return bytes(ready)
            ready += buffer[:at + len(marker)]
            buffer = buffer[at + len(marker):]
            self._in_frame = not self._in_frame
        self._held = b""
        return bytes(ready)

    def output(self) -> bytes:
        """Every byte the app has written so far, escape sequences included."""
        with self._changed:
            return bytes(self._output)

    def osc52_copies(self) -> list[str]:
        """The texts the app has sent to the clipboard as plain OSC 52, in order (what a
        failed copy test shows: another selection, or none)."""
        texts = []
        for part in self.output().split(b"\x1b]52;c;")[1:]:
            payload = part.split(b"\a", 1)[0]
            texts.append(base64.b64decode(payload).decode("utf-8", "replace"))
        return texts

    def text(self) -> str:
        """The screen as text, one row per line, trailing blanks kept off."""
        with self._changed:
            return "\n".join(row.rstrip() for row in self.screen.display)

    def rows(self) -> list[str]:
        with self._changed:
            return list(self.screen.display)

    def wait_until(self, predicate: Callable[[str], object], *, what: str,
                   timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait until ``predicate(screen text)`` is true; returns that screen."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._watch, self._watch_met = predicate, None
            try:
                while True:
                    text = "\n".join(row.rstrip() for row in self.screen.display)
                    if predicate(text):
                        self.matched_frame_arrived = self._watch_met or self.frame_arrived
                        return text
                    left = deadline - time.monotonic()
                    if left <= 0 or self._eof:
                        state = "the app exited" if self._eof else f"{timeout:g} s passed"
                        raise TerminalTimeout(f"waiting for {what}: {state}; screen:\n{text}")
                    self._changed.wait(left)
            finally:
                self._watch = None

    def wait_output(self, data: bytes, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the app has written ``data`` (raw bytes, such as an OSC 52 sequence
        the emulated screen does not show)."""
        self.wait_until(lambda _: data in self._output, what=f"the app to write {data!r}",
                        timeout=timeout)

    def wait_for(self, text: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.wait_until(lambda screen: text in screen, what=repr(text), timeout=timeout)

    def wait_gone(self, text: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.wait_until(lambda screen: text not in screen, what=f"{text!r} to go",
                               timeout=timeout)

    def find(self, text: str) -> tuple[int, int] | None:
        """(row, column) of the first ``text`` on screen."""
        for y, row in enumerate(self.rows()):
            x = row.find(text)
            if x >= 0:
                return y, x
        return None

    # --- input -----------------------------------------------------------------------------

    def send(self, data: bytes | str) -> None:
        """Write bytes as one burst, as a terminal does for one key or a fast typist's run."""
        raw = data.encode() if isinstance(data, str) else data
        while raw:
            written = os.write(self._master, raw)
            raw = raw[written:]

    def drag(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        """A left-button drag from screen (row, column) ``start`` to ``end``, as a terminal
        reports it to an app that asked for SGR mouse tracking (1-based, ``M`` press or
        motion, ``m`` release; 32 marks a motion with the button held)."""
        (y1, x1), (y2, x2) = start, end
        self.send(f"\x1b[<0;{x1 + 1};{y1 + 1}M")
        self.send(f"\x1b[<32;{x2 + 1};{y2 + 1}M")
        self.send(f"\x1b[<0;{x2 + 1};{y2 + 1}m")

    def resize(self, columns: int, lines: int) -> None:
        """What a terminal does when its window changes: new winsize, then SIGWINCH."""
        with self._changed:
            self.columns, self.lines = columns, lines
            self.screen.resize(lines, columns)
        self._set_winsize(columns, lines, self._master)
        # The kernel signals the foreground group; say it again in case the app is not it.
        try:
            os.killpg(self.process.pid, signal.SIGWINCH)
        except ProcessLookupError:
            pass

    @staticmethod
    def _set_winsize(columns: int, lines: int, fd: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))

    # --- lifetime --------------------------------------------------------------------------

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        return self.process.wait(timeout)

    def quit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Ctrl+Q, as a user leaves; the process must exit by itself."""
        self.send(CTRL_Q)
        return self.wait_exit(timeout)

    def hang_up(self) -> None:
        """Close the terminal, as closing its window does: the kernel sends the app SIGHUP,
        and the app's reads and writes on the tty fail from then on."""
        master, self._master = self._master, -1
        os.close(master)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(5)
        self._reader.join(5)
        self._parser.join(5)
        if self._master >= 0:
            try:
                os.close(self._master)
            except OSError:
                pass


def _partial_suffix(data: bytes, marker: bytes) -> int:
    """How many bytes at the end of ``data`` could be the start of ``marker``."""
    for size in range(min(len(marker) - 1, len(data)), 0, -1):
        if data.endswith(marker[:size]):
            return size
    return 0


# --- reading the screen ----------------------------------------------------------------------

def _is_drawing(char: str) -> bool:
    # Box drawing and block elements: borders, scrollbars, the composer's frame.
    return "\u2500" <= char <= "\u259f"


def plain(text: str) -> str:
    """Screen text without borders and with runs of blanks as one space (for "reads as")."""
    return " ".join("".join(" " if _is_drawing(c) else c for c in text).split())


def timed_echo(term: "Terminal", y: int, x: int, char: str, want: str) -> float:
    """Type ``char`` into the field at (``y``, ``x``) and wait until it reads ``want``: the
    seconds from the key to the arrival of the frame that shows it (the benchmarks'
    keystroke latency, timed like their lag rows: not when pyte, ~10-30 ms a full frame and
    behind on a fast stream, has parsed it; :func:`timed_echo_parsed` gives both)."""
    return timed_echo_parsed(term, y, x, char, want)[0]


def timed_echo_parsed(term: "Terminal", y: int, x: int, char: str,
                      want: str) -> tuple[float, float]:
    """:func:`timed_echo`, and the seconds until pyte had parsed that frame."""
    sent = time.monotonic()
    term.send(char)
    term.wait_until(lambda _: field_at(term.rows()[y], x) == want,
                    what=f"the echo of {char!r}", timeout=30)
    parsed = time.monotonic()
    arrived = term.matched_frame_arrived or parsed
    return max(0.0, arrived - sent), parsed - sent


def clear_field(term: "Terminal", y: int, x: int, placeholder: str) -> None:
    """Ctrl+U (TextArea: delete to the line's start) until the field shows ``placeholder``."""
    term.send(b"\x15")
    term.wait_until(lambda _: field_at(term.rows()[y], x).startswith(placeholder),
                    what="a cleared field", timeout=30)


def field_at(row: str, x: int) -> str:
    """The text of an input that starts at column ``x`` of ``row``, up to its border."""
    out = []
    for char in row[x:]:
        if _is_drawing(char):
            break
        out.append(char)
    return "".join(out).strip()
