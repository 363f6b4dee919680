"""Search inside Chinese, Japanese and Korean text (the trigram index, schema version 7)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui.core import ids
from tui.core import migrations
from tui.core.migrations import migrate
from tui.core.models import HIGHLIGHT_END, HIGHLIGHT_START, MessageStatus, Role
from tui.core.store import Store


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "chats.db") as store:
        yield store


def marked(hit) -> list[str]:
    return [piece.split(HIGHLIGHT_END)[0] for piece in hit.snippet.split(HIGHLIGHT_START)[1:]]


def test_words_inside_cjk_runs_are_found(store: Store) -> None:
    cid = store.create_conversation(model="m", title="日本語のメモ").id
    japanese = store.append_message(cid, Role.USER, "東京は日本の首都です。")
    chinese = store.append_message(cid, Role.ASSISTANT, "我喜欢学习中文和编程。")
    korean = store.append_message(cid, Role.USER, "한국어 문장을 검색합니다")
    assert [h.message_id for h in store.search("日本の首都")] == [japanese.id]  # 5 chars
    assert [h.message_id for h in store.search("首都")] == [japanese.id]  # 2: a scan
    assert [h.message_id for h in store.search("中文")] == [chinese.id]
    assert [h.message_id for h in store.search("검색")] == [korean.id]
    title_hit = store.search("メモ")[0]
    assert title_hit.message_id is None and marked(title_hit) == ["メモ"]
    hit = store.search("首都")[0]
    assert marked(hit) == ["首都"] and "東京" in hit.snippet
    assert store.search("首都 python") == []  # every term must occur


def test_the_index_follows_edits_deletes_and_streaming(store: Store) -> None:
    cid = store.create_conversation(model="m").id
    reply = store.append_message(cid, Role.ASSISTANT, "", status=MessageStatus.STREAMING)
    store.update_message(reply.id, content="途中の文章です")
    assert store.search("途中の文") == []  # not indexed while it streams
    store.update_message(reply.id, content="完成した文章です", status=MessageStatus.COMPLETE)
    assert [h.message_id for h in store.search("完成した")] == [reply.id]
    assert store.search("途中の文") == []
    store.delete_message(reply.id)
    assert store.search("完成した") == []
    count = store.conn.execute(
        "INSERT INTO messages_trigram (messages_trigram, rank) VALUES ('integrity-check', 1)")
    assert count is not None  # raises on a corrupt index


def test_archived_chats_can_be_left_out(store: Store) -> None:
    cid = store.create_conversation(model="m", title="old").id
    store.append_message(cid, Role.USER, "古い会話の記録")
    store.set_archived(cid, True)
    assert len(store.search("会話の記録")) == 1
    assert store.search("会話の記録", include_archived=False) == []


def test_an_older_file_gets_its_cjk_text_indexed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=migrations.MIGRATIONS.index(migrations._V7_CJK_SEARCH))  # before
    cid = ids.new_ulid()
    conn.execute("INSERT INTO conversations (id, model, created, updated) VALUES "
                 "(?, 'm', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')", (cid,))
    conn.execute("INSERT INTO messages (id, conversation_id, role, content, created) VALUES "
                 "(?, ?, 'user', '昔のメッセージを探す', '2024-01-01T00:00:00.000Z')",
                 (ids.new_ulid(), cid))
    conn.close()
    with Store(path) as store:
        assert len(store.search("メッセージ")) == 1
