"""Issue 12: a mouse drag over a reply, then Ctrl+C, copies the text shown, end to end.

The installed ``gpt-tui`` on a pty gets the bytes a terminal sends for a left-button drag
(SGR mouse reports) across a list, a code block and a table, then Ctrl+C; with no display
and no multiplexer the copy can only go out as OSC 52, which is read from the bytes the app
wrote: the code without its label, the table without its box drawing.
"""

from __future__ import annotations

from tests.fake_openai.scripts import Script
from tests.terminal.harness import TerminalTimeout
from tui.core.clipboard import osc52

SIZE = (80, 30)
CTRL_C = b"\x03"
REPLY = """Steps:

- first item
- second item

```python
x = 1
```

| name | size |
| --- | --- |
| a | 1 |

The end."""
COPIED = "• first item\n• second item\n\nx = 1\n\nname | size\na    | 1"


def test_a_drag_then_ctrl_c_writes_the_selection_as_osc_52(launch, fake_openai):
    fake_openai.script(Script.reply(REPLY))
    term = launch(size=SIZE, env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "TMUX": "",
                                  "STY": ""})
    term.wait_for("Message…")
    term.send("show me\r")
    term.wait_for("The end.")
    # Dragged while the reply still streams, the selection's end could be in the tail, whose
    # text moves into a page at the reply's end: select what has stopped moving.
    term.wait_gone("streaming…")
    # And the blank rows kept below a streaming reply have gone: closing them moves the reply
    # down, and under load that came a frame after "streaming…" went, so the drag (read from
    # the screen before) landed a row too high.
    term.wait_until(lambda text: "The end.\n ▊▔" in text, what="the reply settled")
    (top, left), (bottom, end) = term.find("• first item"), term.find("a    │ 1")
    # Just past the row's last character, inside the reply: a drag ending in the block's
    # padding ends in the message's container, which Textual selects to the end of the
    # widget under the pointer (here the page holding the whole reply).
    term.drag((top, left), (bottom, end + len("a    │ 1")))
    term.send(CTRL_C)
    try:
        term.wait_output(osc52(COPIED).encode())
    except TerminalTimeout as timeout:
        raise AssertionError(f"copied {term.osc52_copies()!r}, dragged from "
                             f"{(top, left)} to {(bottom, end)}; {timeout}") from None
    term.wait_for("OSC 52")
