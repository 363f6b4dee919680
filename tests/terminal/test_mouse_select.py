"""Issue 12: a mouse drag over a reply, then Ctrl+C, copies the text shown, end to end.

The installed ``gpt-tui`` on a pty gets the bytes a terminal sends for a left-button drag
(SGR mouse reports) across a list, a code block and a table, then Ctrl+C; with no display
and no multiplexer the copy can only go out as OSC 52, which is read from the bytes the app
wrote: the code without its label, the table without its box drawing.
"""

from __future__ import annotations

from tests.fake_openai.scripts import Script
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
    (top, left), (bottom, _) = term.find("• first item"), term.find("a    │ 1")
    term.drag((top, left), (bottom, SIZE[0] - 4))
    term.send(CTRL_C)
    term.wait_output(osc52(COPIED).encode())
    term.wait_for("OSC 52")
