"""Exports that are safe to read and to write: headings that cannot pass for a role,
control characters made visible, cut replies marked, no file replaced without --force, and
``export --all -o DIR`` with readable names in any script."""

from __future__ import annotations

import json
from pathlib import Path

from tui import cli
from tui.core.export import export_to_file, from_json, to_json, to_markdown
from tui.core.models import Conversation, Message, MessageStatus, Role
from tui.core.nested_headings import nest_headings
from tui.core.store import Store


def conversation(title: str = "Safety") -> Conversation:
    return Conversation(id="01JD0000000000000000000000", title=title, model="m",
                        created="2026-01-02T03:04:00.000Z", updated="2026-01-02T03:04:00.000Z")


def message(n: int, role: Role, content: str, **fields) -> Message:
    return Message(id=f"01JD00000000000000000000M{n}", conversation_id="c", role=role,
                   content=content, created="2026-01-02T03:04:00.000Z", **fields)


def test_a_replys_headings_sit_below_the_role_headings() -> None:
    reply = ("## User\n\nI pretend to be you.\n\nBig title\n=========\n\n### Detail\n\n"
             "```md\n## Assistant\n```\n\n- ## in a list")
    text = to_markdown(conversation(), [message(1, Role.USER, "hi"),
                                        message(2, Role.ASSISTANT, reply)], [])
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    top = [(token.tag, tokens[i + 1].content) for i, token in enumerate(tokens)
           if token.type == "heading_open" and token.tag in ("h1", "h2")]
    assert top == [("h1", "Safety"), ("h2", "User"), ("h2", "Assistant")]
    assert "#### User\n\nI pretend to be you." in text
    assert "### Big title\n\n##### Detail" in text
    assert "```md\n## Assistant\n```" in text  # code is left alone
    assert "- #### in a list" in text


def test_nesting_leaves_text_without_headings_untouched() -> None:
    plain = "a line\n\n    # indented code\nno heading here\n"
    assert nest_headings(plain) == plain
    assert nest_headings("###### deepest") == "###### deepest"


def test_control_characters_never_reach_the_files() -> None:
    evil = "red \x1b[31mtext\x1b[0m, a bell \x07, a CSI \x9b2J and DEL \x7f"
    record = conversation(title="title \x1b]0;pwned\x07")
    messages = [message(1, Role.USER, evil), message(2, Role.ASSISTANT, evil, model="m\x1b")]
    markdown = to_markdown(record, messages, [])
    as_json = to_json(record, messages, [])
    for text in (markdown, as_json):
        assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F
                       for c in text), repr(text)
    assert "␛[31mtext" in markdown
    assert from_json(as_json)[1][0].content == evil  # JSON still holds the exact text


def test_a_reply_cut_at_the_length_limit_is_marked() -> None:
    cut = message(2, Role.ASSISTANT, "half an ans", finish_reason="length",
                  status=MessageStatus.COMPLETE)
    text = to_markdown(conversation(), [message(1, Role.USER, "q"), cut], [])
    assert "## Assistant (cut off at the length limit)" in text
    assert "*[reply cut off: it reached the length limit" in text


def seeded(db: Path) -> dict[str, str]:
    with Store(db) as store:
        made = {}
        for title in ("日本語のメモ", "Crème brûlée", "Crème brûlée", "Archived one"):
            c = store.create_conversation(model="m", title=title)
            store.append_message(c.id, Role.USER, f"about {title}")
            made.setdefault(title, c.id)
        store.set_archived(made["Archived one"], True)
        return made


def test_output_is_never_replaced_without_force(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    made = seeded(db)
    target = tmp_path / "out.md"
    target.write_text("precious", encoding="utf-8")
    assert cli.main(["export", made["Archived one"], "-o", str(target), "--db", str(db)]) == 1
    assert "exists; add --force" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "precious"
    assert cli.main(["export", made["Archived one"], "-o", str(target), "--force",
                     "--db", str(db)]) == 0
    assert "about Archived one" in target.read_text(encoding="utf-8")


def test_export_all_writes_one_file_per_conversation(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    seeded(db)
    folder = tmp_path / "backup"
    assert cli.main(["export", "--all", "-o", str(folder), "--db", str(db)]) == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["archived-one.md", "creme-brulee-1.md", "creme-brulee.md",
                     "日本語のメモ.md"]
    assert "exported 4 conversations" in capsys.readouterr().err
    # Again: nothing is replaced, the new files get the next free names.
    assert cli.main(["export", "--all", "-o", str(folder), "--db", str(db)]) == 0
    assert len(list(folder.iterdir())) == 8
    # As JSON, each file imports (into another database) as it was.
    json_folder = tmp_path / "json"
    assert cli.main(["export", "--all", "-o", str(json_folder), "--format", "json",
                     "--db", str(db)]) == 0
    other = tmp_path / "other.db"
    for path in sorted(json_folder.iterdir()):
        assert json.loads(path.read_text(encoding="utf-8"))["format"] == "gpt-tui-conversation"
        assert cli.main(["import", str(path), "--db", str(other)]) == 0
    with Store(other) as store:
        assert store.count_conversations(archived=None) == 4


def test_export_all_needs_a_folder(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    seeded(db)
    assert cli.main(["export", "--all", "--db", str(db)]) == 2
    assert "-o DIR" in capsys.readouterr().err


def test_exports_are_private_as_the_database_is(tmp_path, capsys) -> None:
    """An export holds the conversations the 0600 database keeps: it was written 0644
    (other users could read it), a folder made for --all 0755."""
    import os
    import stat

    old = os.umask(0o022)  # the usual one; process-wide, so restored below
    try:
        db = tmp_path / "chats.db"
        made = seeded(db)
        one = tmp_path / "one.md"
        assert cli.main(["export", made["Archived one"], "-o", str(one), "--db", str(db)]) == 0
        folder = tmp_path / "made" / "backup"
        assert cli.main(["export", "--all", "-o", str(folder), "--db", str(db)]) == 0
        with Store(db) as store:  # the app's export (ctrl+e)
            app_export = export_to_file(store, store.get_conversation(made["Archived one"]),
                                        tmp_path / "app")
    finally:
        os.umask(old)
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    assert mode(one) == 0o600 and mode(app_export) == 0o600
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700
    assert {mode(p) for p in folder.iterdir()} == {0o600}
    # A file replaced with --force keeps the mode its owner gave it.
    one.chmod(0o644)
    assert cli.main(["export", made["Archived one"], "-o", str(one), "--force",
                     "--db", str(db)]) == 0
    assert mode(one) == 0o644
