"""``gpt-tui import``: ChatGPT's data export (JSON and zip) and gpt-tui's own JSON export.

The ChatGPT fixture (tests/fixtures/chatgpt_export/conversations.json) is hand-made in the
export's shape: a regenerated answer and an edited question (branches), hidden system and
custom-instruction nodes, a multimodal message with an image, reasoning, code, a tool's
output, a web quote, an unknown content type, and two malformed conversations.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tui import cli
from tui.core import tree
from tui.core.models import Role
from tui.core.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "chatgpt_export" / "conversations.json"


def run(db: Path, *args: str) -> int:
    return cli.main(["import", *args, "--db", str(db)])


def by_title(store: Store) -> dict[str, str]:
    return {c.title: c.id for c in store.list_conversations(archived=None)}


def test_chatgpt_export_keeps_the_tree_and_reports_the_malformed(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    assert run(db, str(FIXTURE)) == 1  # two conversations could not be read
    out, err = capsys.readouterr()
    assert "imported 2 conversations" in out and "2 skipped" in out
    skipped = err.splitlines()
    assert len(skipped) == 2
    assert "“Broken: a node whose parent is missing”" in skipped[0]
    assert "its parent cccccccc-0000-4000-8000-00000000dead is missing" in skipped[0]
    assert "“Broken: no message tree”" in skipped[1] and "no message tree" in skipped[1]
    with Store(db) as store:
        titles = by_title(store)
        assert set(titles) == {"Prime numbers", "Plot a sine wave"}
        primes = store.get_conversation(titles["Prime numbers"])
        assert primes.model == "gpt-4o" and primes.created == "2024-05-29T16:26:40.125Z"
        # current_node is the active path: the regenerated answer, under the first question.
        path = store.load_messages(primes.id)
        assert [(m.role, m.content) for m in path] == [
            (Role.USER, "Name a prime number."), (Role.ASSISTANT, "2 is the only even prime.")]
        assert path[1].model == "gpt-4o-mini"
        assert path[0].parent_id is None  # the hidden system root is left out
        branches = tree.branches(store, primes.id)
        assert branches[path[1].id] == tree.Branch(2, 2)  # "7 is prime." came first
        assert branches[path[0].id] == tree.Branch(1, 2)  # the edited question is a sibling
        tree.switch_sibling(store, path[0].id, 1)
        edited = store.load_messages(primes.id)
        assert [m.content for m in edited] == ["Name an even prime number.",
                                               "2 — the only one, and the answer is cut"]
        assert edited[1].finish_reason == "length"
        assert store.count_messages(primes.id) == 5


def test_chatgpt_content_types_become_readable_text(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    run(db, str(FIXTURE))
    with Store(db) as store:
        sine = store.get_conversation(by_title(store)["Plot a sine wave"])
        assert sine.archived and sine.model == "o3"  # no default slug: the newest used
        assert sine.system_prompt == ""  # custom instructions are hidden context
        texts = [m.content for m in store.load_messages(sine.id)]
    assert texts[0] == ("[image 640×480]\n\nPlot this curve as a sine wave, like in the "
                        "sketch.")
    assert texts[1].startswith("[reasoning]\nChoosing a library")
    assert texts[2] == "[Thought for 4 seconds]"
    assert texts[3].startswith("```\nimport numpy as np") and texts[3].endswith("\n```")
    assert texts[4] == "**Tool (python):**\n\nOutput:\n```\n<<ImageDisplayed>>\n```"
    assert texts[5].startswith("**Tool (web):**\n\n> A sine wave is a periodic wave")
    assert "— Sine wave https://en.wikipedia.org/wiki/Sine_wave" in texts[5]
    assert texts[6] == "[some future widget content not shown]"
    assert texts[7] == "Here is the plot of **sin(x)** over one period."
    assert len(texts) == 8


def test_importing_twice_adds_nothing(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    run(db, str(FIXTURE))
    capsys.readouterr()
    assert run(db, str(FIXTURE)) == 1
    out, _ = capsys.readouterr()
    assert "imported 0 conversations (0 messages), 2 already there, 2 skipped" in out
    with Store(db) as store:
        assert store.count_conversations(archived=None) == 2


def test_the_zip_of_a_chatgpt_export_imports(tmp_path, capsys) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("user.json", json.dumps({"id": "user-1", "email": "x@example.com"}))
        zipped.writestr("chat.html", "<html></html>")
        zipped.writestr("conversations.json", FIXTURE.read_text(encoding="utf-8"))
    db = tmp_path / "chats.db"
    assert run(db, str(archive)) == 1
    out, _ = capsys.readouterr()
    assert "ChatGPT export: imported 2 conversations (13 messages)" in out
    with Store(db) as store:
        assert set(by_title(store)) == {"Prime numbers", "Plot a sine wave"}


@pytest.mark.parametrize("content", [b'{"hello": "world"}', b"not json at all", b"[]",
                                     b"PK\x03\x04 broken zip"])
def test_a_file_of_neither_format_exits_2_and_stores_nothing(tmp_path, capsys,
                                                              content) -> None:
    source = tmp_path / "mystery.json"
    source.write_bytes(content)
    db = tmp_path / "chats.db"
    assert run(db, str(source)) == 2
    _, err = capsys.readouterr()
    assert err.startswith("gpt-tui: error: cannot import") and len(err.splitlines()) == 1
    assert not db.exists()


def test_an_empty_list_is_said_to_hold_no_conversation(tmp_path, capsys) -> None:
    source = tmp_path / "conversations.json"
    source.write_text("[]")
    assert run(tmp_path / "chats.db", str(source)) == 2
    assert "holds no conversation" in capsys.readouterr().err


def test_the_folder_an_export_unpacks_to_imports(tmp_path, capsys) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "conversations.json").write_text(FIXTURE.read_text(encoding="utf-8"))
    (folder / "user.json").write_text("{}")
    db = tmp_path / "chats.db"
    assert run(db, str(folder)) == 1  # the fixture's two malformed conversations
    assert "ChatGPT export: imported 2 conversations (13 messages)" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(tmp_path / "other.db", str(empty)) == 2
    assert "is a folder without a conversations.json" in capsys.readouterr().err
    assert not (tmp_path / "other.db").exists()


@pytest.mark.parametrize("zipped", [False, True])
def test_a_dash_reads_the_export_from_standard_input(tmp_path, capsys, monkeypatch,
                                                     zipped) -> None:
    data = FIXTURE.read_bytes()
    if zipped:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("conversations.json", data)
        data = buffer.getvalue()
    stdin = io.TextIOWrapper(io.BytesIO(data))
    monkeypatch.setattr("sys.stdin", stdin)
    db = tmp_path / "chats.db"
    assert run(db, "-") == 1
    assert "ChatGPT export: imported 2 conversations (13 messages)" in capsys.readouterr().out
    with Store(db) as store:
        assert set(by_title(store)) == {"Prime numbers", "Plot a sine wave"}


def test_a_missing_file_exits_2(tmp_path, capsys) -> None:
    assert run(tmp_path / "chats.db", str(tmp_path / "nope.json")) == 2
    assert "no file" in capsys.readouterr().err


def branched_store(path: Path) -> str:
    """A conversation with two answers, an edited question, a summary and a pin."""
    with Store(path) as store:
        cid = store.create_conversation(model="gpt-4o", title="Tree ☘ export",
                                        system_prompt="be terse").id
        q = store.append_message(cid, Role.USER, "first question")
        a1 = store.append_message(cid, Role.ASSISTANT, "answer one", model="gpt-4o")
        store.append_message(cid, Role.ASSISTANT, "answer two", model="gpt-4o",
                             parent_id=q.id)
        store.append_message(cid, Role.USER, "more")
        store.add_summary(cid, "a summary", first_message_id=q.id, last_message_id=a1.id,
                          covered_count=2)
        store.set_message_pinned(q.id, True)
        tree.select_message(store, a1.id)
        return cid


def test_the_json_export_imports_back_unchanged(tmp_path, capsys) -> None:
    first, second = tmp_path / "one.db", tmp_path / "two.db"
    cid = branched_store(first)
    exported = tmp_path / "tree.json"
    assert cli.main(["export", cid, "-o", str(exported), "--db", str(first)]) == 0
    assert run(second, str(exported)) == 0
    out, _ = capsys.readouterr()
    assert "gpt-tui export: imported 1 conversation (4 messages)" in out
    again = tmp_path / "again.json"
    assert cli.main(["export", cid, "-o", str(again), "--db", str(second)]) == 0
    assert again.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")
    with Store(second) as store:
        assert [m.content for m in store.load_messages(cid)] == ["first question",
                                                                 "answer one"]
        assert store.latest_summary(cid) is not None
    # Into the database it came from: already there.
    assert run(first, str(exported)) == 0
    assert "1 already there" in capsys.readouterr().out


def test_attached_images_come_back_with_the_import(tmp_path, capsys) -> None:
    from tui.core.attachments import ImageFile

    first, second = tmp_path / "one.db", tmp_path / "two.db"
    png = ImageFile("shot.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    with Store(first) as store:
        cid = store.create_conversation(model="gpt-4o", title="With an image").id
        asked = store.append_message(cid, Role.USER, "what is this?")
        store.add_images(asked.id, [png])
        store.append_message(cid, Role.ASSISTANT, "a picture", model="gpt-4o")
    exported = tmp_path / "image.json"
    assert cli.main(["export", cid, "-o", str(exported), "--db", str(first)]) == 0
    assert run(second, str(exported)) == 0
    with Store(second) as store:
        assert store.images_for([asked.id]) == {asked.id: [png]}
    again = tmp_path / "again.json"
    assert cli.main(["export", cid, "-o", str(again), "--db", str(second)]) == 0
    assert again.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")


def test_a_damaged_attachment_skips_its_conversation(tmp_path, capsys) -> None:
    from tui.core.attachments import ImageFile

    first, second = tmp_path / "one.db", tmp_path / "two.db"
    with Store(first) as store:
        cid = store.create_conversation(model="gpt-4o", title="Bad image").id
        asked = store.append_message(cid, Role.USER, "what is this?")
        store.add_images(asked.id, [ImageFile("a.png", "image/png", b"\x89PNG")])
    exported = tmp_path / "bad.json"
    cli.main(["export", cid, "-o", str(exported), "--db", str(first)])
    document = json.loads(exported.read_text(encoding="utf-8"))
    document["messages"][0]["attachments"][0]["data"] = "not base64!"
    exported.write_text(json.dumps(document), encoding="utf-8")
    assert run(second, str(exported)) == 1
    assert "attachment" in capsys.readouterr().err
    with Store(second) as store:
        assert store.list_conversations(archived=None) == []


def test_a_broken_gpt_tui_conversation_is_not_half_written(tmp_path, capsys) -> None:
    cid = branched_store(tmp_path / "one.db")
    exported = tmp_path / "tree.json"
    cli.main(["export", cid, "-o", str(exported), "--db", str(tmp_path / "one.db")])
    document = json.loads(exported.read_text(encoding="utf-8"))
    document["messages"][2]["id"] = document["messages"][1]["id"]  # a duplicate id
    document["messages"][3]["parent_id"] = document["messages"][0]["id"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    db = tmp_path / "two.db"
    assert run(db, str(broken)) == 1
    assert "skipped conversation #1 “Tree ☘ export”" in capsys.readouterr().err
    with Store(db) as store:
        assert store.count_conversations(archived=None) == 0
        assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


def test_markdown_export_is_the_branch_shown(tmp_path, capsys) -> None:
    db = tmp_path / "one.db"
    cid = branched_store(db)
    assert cli.main(["export", cid, "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "answer one" in text and "answer two" not in text and "\nmore\n" not in text
    assert "- Messages: 2 (the branch shown; 2 more on other branches)" in text


def test_a_conversation_with_nothing_to_show_is_not_stored(tmp_path, capsys) -> None:
    hidden_only = {
        "title": "Only context", "create_time": 1717000000.0, "update_time": 1717000000.0,
        "conversation_id": "66a1b2c3-0000-4000-8000-00000000empt", "current_node": "n2",
        "mapping": {
            "n1": {"id": "n1", "message": None, "parent": None, "children": ["n2"]},
            "n2": {"id": "n2", "parent": "n1", "children": [], "message": {
                "id": "n2", "author": {"role": "system", "name": None, "metadata": {}},
                "content": {"content_type": "text", "parts": [""]}, "metadata": {
                    "is_visually_hidden_from_conversation": True}}}}}
    source = tmp_path / "conversations.json"
    source.write_text(json.dumps([hidden_only]), encoding="utf-8")
    db = tmp_path / "chats.db"
    assert run(db, str(source)) == 0
    out = capsys.readouterr().out
    assert "no message to show" in out and "1 empty" in out
    with Store(db) as store:
        assert store.count_conversations(archived=None) == 0


# -- re-importing a conversation that went on --------------------------------------------------

def grown_export(tmp_path: Path) -> Path:
    """The fixture as a later export: "Prime numbers" went on by one question and answer
    under the answer ChatGPT showed, which is now the current node."""
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    primes = next(c for c in document if c.get("title") == "Prime numbers")
    last = primes["current_node"]
    later = primes["update_time"] + 600

    def node(node_id: str, parent: str, role: str, text: str) -> dict:
        return {"id": node_id, "parent": parent, "children": [], "message": {
            "id": node_id, "author": {"role": role}, "create_time": later,
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "metadata": {}}}

    primes["mapping"][last]["children"].append("new-question")
    primes["mapping"]["new-question"] = node("new-question", last, "user", "And an odd one?")
    primes["mapping"]["new-question"]["children"] = ["new-answer"]
    primes["mapping"]["new-answer"] = node("new-answer", "new-question", "assistant",
                                           "3 is an odd prime.")
    primes["current_node"], primes["update_time"] = "new-answer", later
    path = tmp_path / "later.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_later_export_adds_the_new_messages_of_a_chat_that_went_on(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    run(db, str(FIXTURE))
    capsys.readouterr()
    assert run(db, str(grown_export(tmp_path))) == 1  # the two malformed ones, as before
    out, _ = capsys.readouterr()
    assert "imported 0 conversations (0 messages), 1 updated (2 new messages), " \
        "1 already there, 2 skipped" in out
    with Store(db) as store:
        primes = by_title(store)["Prime numbers"]
        assert store.count_messages(primes) == 5 + 2, "nothing already there was added again"
        path = store.load_messages(primes)
        assert [m.content for m in path] == ["Name a prime number.", "2 is the only even prime.",
                                             "And an odd one?", "3 is an odd prime."]
        assert tree.branches(store, primes)[path[0].id] == tree.Branch(1, 2)  # branches kept
        assert store.count_conversations(archived=None) == 2
    # The same later export again: nothing new.
    assert run(db, str(grown_export(tmp_path))) == 1
    assert "0 conversations (0 messages), 2 already there" in capsys.readouterr().out


def test_an_unchanged_export_never_brings_back_what_was_deleted_here(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    run(db, str(FIXTURE))
    with Store(db) as store:
        primes = by_title(store)["Prime numbers"]
        answer = store.load_messages(primes)[-1]
        store.delete_message(answer.id)
        left = store.count_messages(primes)
    capsys.readouterr()
    run(db, str(FIXTURE))
    assert "2 already there" in capsys.readouterr().out
    with Store(db) as store:
        assert store.count_messages(primes) == left


def test_a_chat_imported_before_updates_were_tracked_is_updated_too(tmp_path, capsys) -> None:
    db = tmp_path / "chats.db"
    run(db, str(FIXTURE))
    with Store(db) as store:  # as imported by a version without source_updated
        store.run(lambda conn: conn.execute("UPDATE imports SET source_updated = NULL"),
                  write=True)
    capsys.readouterr()
    run(db, str(grown_export(tmp_path)))
    assert "1 updated (2 new messages), 1 already there" in capsys.readouterr().out


def test_a_newer_json_export_adds_what_the_copy_lacks_with_the_same_ids(tmp_path,
                                                                         capsys) -> None:
    home, laptop = tmp_path / "home.db", tmp_path / "laptop.db"
    cid = branched_store(home)
    first = tmp_path / "first.json"
    cli.main(["export", cid, "-o", str(first), "--db", str(home)])
    run(laptop, str(first))
    with Store(home) as store:  # the chat goes on at home
        leaf = store.load_messages(cid)[-1]
        question = store.append_message(cid, Role.USER, "one more thing", parent_id=leaf.id)
        store.append_message(cid, Role.ASSISTANT, "sure", parent_id=question.id)
    later = tmp_path / "later.json"
    cli.main(["export", cid, "-o", str(later), "--db", str(home)])
    capsys.readouterr()
    assert run(laptop, str(later)) == 0
    assert "1 updated (2 new messages)" in capsys.readouterr().out
    with Store(home) as a, Store(laptop) as b:
        assert [(m.id, m.content) for m in b.load_messages(cid)] == \
            [(m.id, m.content) for m in a.load_messages(cid)]
    # An older export into the database that went on adds nothing back.
    assert run(home, str(first)) == 0
    assert "1 already there" in capsys.readouterr().out
