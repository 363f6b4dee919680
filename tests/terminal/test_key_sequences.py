"""The bytes terminals send for the composer's keys, through Textual's own input parser.

No pty needed: this pins the decoding the terminal tests rely on, and fails loudly when a
Textual release moves the private sequence table ``register_alt_enter`` extends.
"""

from __future__ import annotations

import pytest
from textual import events
from textual._xterm_parser import XTermParser

from tui.ui.widgets.composer import NEWLINE_KEYS, key_name, register_alt_enter
from tests.terminal.harness import (
    ALT_ENTER,
    ALT_ENTER_KITTY,
    ENTER,
    SHIFT_ENTER_KITTY,
    SHIFT_ENTER_XTERM,
)


def parse(data: bytes) -> list[str]:
    parser = XTermParser()
    tokens = [*parser.feed(data.decode()), *parser.feed("")]
    return [key_name(token) for token in tokens if isinstance(token, events.Key)]


def test_the_alt_enter_sequence_is_registered():
    assert register_alt_enter(), "Textual's sequence table moved: ESC CR would send"


@pytest.mark.parametrize("data", [ALT_ENTER, ALT_ENTER_KITTY, SHIFT_ENTER_KITTY,
                                  SHIFT_ENTER_XTERM, b"\n"])
def test_newline_keys_decode_as_newline_keys(data):
    keys = parse(data)
    assert len(keys) == 1 and keys[0] in NEWLINE_KEYS, keys


def test_enter_still_sends():
    assert parse(ENTER) == ["enter"]


def test_alt_enter_followed_by_text_in_one_burst():
    # A fast typist: nothing of the text is swallowed into the escape sequence.
    assert parse(ALT_ENTER + b"ok") == ["alt+enter", "o", "k"]
