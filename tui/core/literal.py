"""Showing untrusted text (model output, titles) literally on a terminal.

Control characters would be interpreted by the terminal (ANSI colours, cursor moves, title
changes), so they are replaced by visible stand-ins: ESC becomes ``␛``, other C0/C1 controls
their Unicode "control picture" or ``\\xNN``. Newlines and tabs pass through.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x1B:
        return "␛"
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ ␁ ...
    if code == 0x7F:
        return "␡"
    return f"\\x{code:02x}"


def printable(text: str) -> str:
    """``text`` with every control character except newline and tab made visible."""
    return _CONTROLS.sub(_visible, text)
