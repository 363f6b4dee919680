"""Edit a text in the user's own editor ($VISUAL, else $EDITOR, else vi).

The text goes to a private temporary file, the editor runs on it (the caller hands the
terminal over first), and the file's text comes back. An editor that cannot start or
exits with an error gives the reason instead, so the caller keeps the draft as it was.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_EDITOR = "vi"


@dataclass(frozen=True)
class EditResult:
    text: str | None  # None: the editor failed, see ``error``
    error: str = ""


def editor_command(env: Mapping[str, str]) -> list[str]:
    """$VISUAL, else $EDITOR, else vi; split as a shell would (``code --wait`` works)."""
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            try:
                return shlex.split(value)
            except ValueError:
                return [value]
    return [DEFAULT_EDITOR]


def edit_text(text: str, env: Mapping[str, str] | None = None) -> EditResult:
    """Run the editor on ``text`` (blocks until it exits) and return what was saved.

    The single newline editors add at the end of a file is dropped again.
    """
    env = os.environ if env is None else env
    command = editor_command(env)
    folder = tempfile.mkdtemp(prefix="gpt-tui-")
    path = Path(folder) / "draft.md"
    try:
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([*command, str(path)], check=False, env=dict(env))
        except OSError as error:
            return EditResult(None, f"could not start {command[0]}: "
                                    f"{error.strerror or error}")
        if done.returncode != 0:
            return EditResult(None, f"{command[0]} exited with status {done.returncode}")
        try:
            edited = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            return EditResult(None, f"could not read the edited text: {error}")
        if edited.endswith("\n") and not text.endswith("\n"):
            edited = edited[:-1]
        return EditResult(edited)
    finally:
        path.unlink(missing_ok=True)
        os.rmdir(folder)
