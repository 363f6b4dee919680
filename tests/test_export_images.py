"""Exports keep attached images: JSON embeds them (and reads them back), Markdown links to
files written beside it."""

from __future__ import annotations

import json

from tui import cli
from tui.core.attachments import ImageFile
from tui.core.export import export_to_file, from_json, images_from_document, to_json
from tui.core.models import Role
from tui.core.store import Store

IMAGE = ImageFile("Screen Shot.PNG", "image/png", b"\x89PNG\r\n\x1a\nxyz")


def seeded(tmp_path):
    store = Store(tmp_path / "chats.db")
    chat = store.create_conversation(model="m", title="Pictures")
    message = store.append_message(chat.id, Role.USER, "what is [image Screen Shot.PNG]")
    store.add_images(message.id, [IMAGE])
    store.append_message(chat.id, Role.ASSISTANT, "a screen")
    return store, chat, message


def test_json_embeds_the_images_and_reads_them_back(tmp_path):
    store, chat, message = seeded(tmp_path)
    messages = store.load_messages(chat.id)
    text = to_json(chat, messages, [], store.images_for([m.id for m in messages]))
    assert images_from_document(json.loads(text)) == {message.id: [IMAGE]}
    assert [m.content for m in from_json(text)[1]] == [m.content for m in messages]
    store.close()


def test_markdown_links_to_files_beside_it(tmp_path):
    store, chat, _ = seeded(tmp_path)
    path = export_to_file(store, chat, tmp_path / "out")
    assert "![Screen Shot.PNG](pictures-files/01-screen-shot.png)" in path.read_text()
    assert (path.parent / "pictures-files" / "01-screen-shot.png").read_bytes() == IMAGE.data
    again = export_to_file(store, chat, tmp_path / "out")  # never overwrites, files included
    assert again.name == "pictures-1.md"
    assert (again.parent / "pictures-1-files" / "01-screen-shot.png").exists()
    store.close()


def test_cli_export_writes_the_files_beside_the_output(tmp_path, capsys):
    store, chat, _ = seeded(tmp_path)
    store.close()
    out = tmp_path / "doc.md"
    assert cli.main(["--db", str(tmp_path / "chats.db"), "export", chat.id, "-o",
                     str(out)]) == 0
    assert "](doc-files/01-screen-shot.png)" in out.read_text()
    assert (tmp_path / "doc-files" / "01-screen-shot.png").read_bytes() == IMAGE.data
    assert (tmp_path / "doc-files" / "01-screen-shot.png").stat().st_mode & 0o077 == 0
    assert cli.main(["--db", str(tmp_path / "chats.db"), "export", chat.id]) == 0
    assert "*[image: Screen Shot.PNG, 11 B]*" in capsys.readouterr().out


def test_attachments_table_comes_with_the_migration_and_goes_with_its_message(tmp_path):
    from tui.core.migrations import SCHEMA_VERSION, user_version

    store, chat, message = seeded(tmp_path)
    assert user_version(store.conn) == SCHEMA_VERSION
    store.delete_message(message.id)
    assert store.images_for([message.id]) == {}
    assert store.conn.execute("select count(*) from attachments").fetchone()[0] == 0
    store.close()
