"""Showing untrusted text (model output, titles, snippets) literally on a terminal.

Control characters would be interpreted by the terminal (ANSI colours, cursor moves, title
changes), so they are swapped for visible stand-ins: C0 controls for their Unicode "control
pictures" (ESC becomes ``␛``), DEL for ``␡``, C1 controls for ``�``. Newlines and tabs pass
through. Every front end (the app, ``gpt-tui ask`` on a terminal) uses this one table.
"""

from __future__ import annotations

_VISIBLE: dict[int, int] = {code: 0x2400 + code for code in range(0x20)
                            if code not in (0x09, 0x0A)}
_VISIBLE[0x7F] = 0x2421
_VISIBLE.update({code: 0xFFFD for code in range(0x80, 0xA0)})


def printable(text: str) -> str:
    """``text`` with every control character except newline and tab made visible."""
    return text.translate(_VISIBLE)
