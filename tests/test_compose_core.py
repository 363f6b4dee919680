"""The core of composing: earlier prompts from the store, the external editor."""

from __future__ import annotations

import stat
from pathlib import Path

from tui.core.external_editor import edit_text, editor_command
from tui.core.models import Role
from tui.core.store import Store


def test_prompt_history_this_chat_first_then_others_each_once(tmp_path):
    store = Store(tmp_path / "chats.db")
    a = store.create_conversation(model="m")
    b = store.create_conversation(model="m")
    store.append_message(a.id, Role.USER, "same text")
    store.append_message(b.id, Role.USER, "b old")
    store.append_message(a.id, Role.ASSISTANT, "a reply is not a prompt")
    store.append_message(a.id, Role.USER, "a newer")
    store.append_message(b.id, Role.USER, "same text")
    store.append_message(b.id, Role.USER, "   ")
    assert store.prompt_history(a.id) == ["a newer", "same text", "b old"]
    assert store.prompt_history(None) == ["same text", "a newer", "b old"]
    store.close()


def editor(folder: Path, body: str) -> str:
    path = folder / "fake-editor"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_visual_wins_over_editor_and_vi_is_the_fallback():
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "nano"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "nano -w"}) == ["nano", "-w"]
    assert editor_command({}) == ["vi"]


def test_the_edited_text_comes_back_without_the_editors_final_newline(tmp_path):
    command = editor(tmp_path, 'printf "%s\\nand more\\n" "$(cat "$1")" > "$1"')
    result = edit_text("draft", {"EDITOR": command, "PATH": "/usr/bin:/bin"})
    assert result.text == "draft\nand more" and result.error == ""


def test_a_failing_or_missing_editor_gives_the_reason(tmp_path):
    failing = edit_text("draft", {"EDITOR": editor(tmp_path, "exit 3")})
    assert failing.text is None and "exited with status 3" in failing.error
    missing = edit_text("draft", {"EDITOR": str(tmp_path / "no-such-editor")})
    assert missing.text is None and "could not start" in missing.error
