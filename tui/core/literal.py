"""Showing untrusted text (model output, titles, snippets) literally on a terminal.

Control characters would be interpreted by the terminal (ANSI colours, cursor moves, title
changes), so they are swapped for visible stand-ins: C0 controls for their Unicode "control
pictures" (ESC becomes ``␛``), DEL for ``␡``, C1 controls for ``�``. Newlines and tabs pass
through. Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069)
become ``�`` too: left in, they reorder the characters around them on screen, so text can show
in another order than it reads ("Trojan Source"). The Unicode line and paragraph separators
(U+2028, U+2029) become ``␤``: some terminals break the line there and the layout, which
measured one line, would be wrong. Every front end (the app, ``gpt-tui ask`` on a terminal)
uses this one table.
"""

from __future__ import annotations

import re

_VISIBLE: dict[int, int] = {code: 0x2400 + code for code in range(0x20)
                            if code not in (0x09, 0x0A)}
_VISIBLE[0x7F] = 0x2421
_VISIBLE.update({code: 0xFFFD for code in range(0x80, 0xA0)})
_VISIBLE.update({code: 0xFFFD for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})
_VISIBLE.update({0x2028: 0x2424, 0x2029: 0x2424})


def printable(text: str) -> str:
    """``text`` with every control character except newline and tab made visible."""
    return text.translate(_VISIBLE)


CONTROL_CHARACTERS = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_VISIBLE))
                                + "]")
"""Every character :func:`printable` replaces: where a text field must keep the text as it
is, what it draws leaves these out (they are zero cells wide to Textual)."""
