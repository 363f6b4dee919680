"""Two running copies on one file: each can tell cheaply that the other wrote something."""

from __future__ import annotations

from pathlib import Path

from tui.core.store import Store


def test_data_version_moves_only_for_the_other_connections_writes(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    with Store(path) as mine, Store(path) as theirs:
        c = mine.create_conversation(model="m")
        before = mine.data_version()
        mine.append_message(c.id, "user", "my own write")
        assert mine.data_version() == before
        theirs.append_message(c.id, "user", "written by the other copy")
        assert mine.data_version() != before


def test_changed_elsewhere_reports_each_outside_commit_once(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    with Store(path) as mine, Store(path) as theirs:
        c = mine.create_conversation(model="m")
        assert mine.changed_elsewhere() is False  # the reference point
        mine.append_message(c.id, "user", "mine")
        assert mine.changed_elsewhere() is False
        theirs.append_message(c.id, "user", "theirs")
        assert mine.changed_elsewhere() is True
        assert mine.changed_elsewhere() is False


def test_latest_message_id_sees_the_other_copys_message(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    with Store(path) as mine, Store(path) as theirs:
        c = mine.create_conversation(model="m")
        assert mine.latest_message_id(c.id) is None
        first = mine.append_message(c.id, "user", "one")
        assert mine.latest_message_id(c.id) == first.id
        second = theirs.append_message(c.id, "assistant", "two")
        assert mine.latest_message_id(c.id) == second.id


def test_the_files_stamp_changes_with_every_commit_and_only_then(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    with Store(path) as mine, Store(path) as theirs:
        c = mine.create_conversation(model="m")
        stamp = mine.files_stamp()
        mine.list_conversations()  # reading writes nothing
        assert mine.files_stamp() == stamp
        for n in range(3):  # commits of the same size in a row still change it
            theirs.append_message(c.id, "user", "x")
            assert mine.files_stamp() != stamp
            stamp = mine.files_stamp()
