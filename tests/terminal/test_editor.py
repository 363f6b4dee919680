"""Issue 12: the draft opens in $EDITOR (ctrl+g) and the edited text comes back.

The editor is a small script: it appends a line to the file it is given, or fails. The app
hands it the real terminal (App.suspend) and takes the screen back after.
"""

from __future__ import annotations

import stat
from pathlib import Path

CTRL_G = b"\x07"


def editor(folder: Path, body: str) -> str:
    path = folder / "editor.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_the_editor_result_replaces_the_draft(launch, tmp_path):
    script = editor(tmp_path, 'printf "%s\\nwritten in the editor\\n" "$(cat "$1")" > "$1"')
    term = launch(env={"VISUAL": script, "EDITOR": "false"})
    term.wait_for("Message…")
    term.send("typed here")
    term.wait_for("typed here")
    term.send(CTRL_G)
    term.wait_for("written in the editor")
    first, second = term.find("typed here"), term.find("written in the editor")
    assert second[0] == first[0] + 1, term.text()


def test_a_failing_editor_leaves_the_draft(launch, tmp_path):
    term = launch(env={"VISUAL": editor(tmp_path, "echo oops >&2; exit 2")})
    term.wait_for("Message…")
    term.send("keep this draft")
    term.wait_for("keep this draft")
    term.send(CTRL_G)
    screen = term.wait_for("exited with status 2")
    assert "keep this draft" in screen
