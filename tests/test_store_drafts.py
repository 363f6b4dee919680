"""Drafts: the composer's unsent text per conversation, kept in the database across restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui.core.migrations import migrate
from tui.core.store import Store


def test_drafts_are_per_conversation_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    with Store(path) as store:
        a = store.create_conversation(model="m")
        b = store.create_conversation(model="m")
        store.set_draft(a.id, "half a thought\nand a second line")
        store.set_draft(b.id, "other")
        store.set_draft(None, "for the new chat")
        store.set_draft(b.id, "other, edited")
    with Store(path) as store:
        assert store.get_draft(a.id) == "half a thought\nand a second line"
        assert store.get_draft(b.id) == "other, edited"
        assert store.get_draft(None) == "for the new chat"
        assert store.get_draft("01NOSUCHCONVERSATION0000000") == ""


def test_blank_text_and_clear_remove_the_draft(tmp_path: Path) -> None:
    with Store(tmp_path / "chat.db") as store:
        c = store.create_conversation(model="m")
        store.set_draft(c.id, "something")
        store.set_draft(c.id, "  \n ")
        assert store.get_draft(c.id) == ""
        store.set_draft(None, "new")
        store.clear_draft(None)
        assert store.get_draft(None) == ""
        assert store.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0


def test_deleting_a_conversation_deletes_its_draft(tmp_path: Path) -> None:
    with Store(tmp_path / "chat.db") as store:
        c = store.create_conversation(model="m")
        store.set_draft(c.id, "never sent")
        store.delete_conversation(c.id)
        assert store.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0


def test_a_version_3_file_gains_the_drafts_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=3)
    conn.close()
    with Store(path) as store:
        c = store.create_conversation(model="m")
        store.set_draft(c.id, "kept")
        assert store.get_draft(c.id) == "kept"


def test_a_drafts_images_are_kept_by_chip_and_go_with_it(tmp_path: Path) -> None:
    from tui.core.attachments import ImageFile

    cat = ImageFile("cat.png", "image/png", b"\x89PNG1")
    dog = ImageFile("d.gif", "image/gif", b"G")
    path = tmp_path / "chat.db"
    with Store(path) as store:
        c = store.create_conversation(model="m")
        store.set_draft(c.id, "look [image cat.png · 5 B] [image d.gif · 1 B]")
        store.set_draft_images(c.id, {"[image cat.png · 5 B]": cat, "[image d.gif · 1 B]": dog})
        store.set_draft(None, "new chat [image cat.png · 5 B]")
        store.set_draft_images(None, {"[image cat.png · 5 B]": cat})
    with Store(path) as store:
        assert store.get_draft_images(c.id) == {"[image cat.png · 5 B]": cat,
                                                "[image d.gif · 1 B]": dog}
        store.set_draft_images(c.id, {"[image d.gif · 1 B]": dog})  # a chip deleted
        assert store.get_draft_images(c.id) == {"[image d.gif · 1 B]": dog}
        store.clear_draft(None)  # sent: the draft and its images are spent
        assert store.get_draft_images(None) == {}
        store.delete_conversation(c.id)
        assert store.conn.execute("SELECT count(*) FROM draft_images").fetchone()[0] == 0
