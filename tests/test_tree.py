"""The conversation tree in the store and the flow: paths, siblings, summaries per branch,
edit, regenerate, switch, fork, delete, and the upgrade of a flat database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core import ids, tree
from tui.core.chat import ChatFlow, FlowFailed, UserMessageStored, collect
from tui.core.client import ChatClient
from tui.core.config import Settings
from tui.core import migrations
from tui.core.migrations import migrate
from tui.core.models import Role
from tui.core.store import NotFound, Store
from tui.core.tokens import TokenCounter


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "chat.db") as store:
        yield store


@pytest.fixture
async def flow(store, fake_openai):
    counter = TokenCounter("gpt-4o")
    assert counter.load_blocking()
    client = ChatClient(base_url=fake_openai.base_url, api_key=None, backoff_base=0.01,
                        backoff_max=0.05)
    yield ChatFlow(store, client, counter, Settings(model="gpt-4o",
                                                    base_url=fake_openai.base_url))
    await client.aclose()


def contents(store: Store, cid: str) -> list[str]:
    return [m.content for m in store.load_messages(cid)]


def test_messages_chain_and_the_path_follows_the_leaf(store: Store) -> None:
    cid = store.create_conversation(model="m").id
    q = store.append_message(cid, Role.USER, "q")
    a1 = store.append_message(cid, Role.ASSISTANT, "a1")
    a2 = store.append_message(cid, Role.ASSISTANT, "a2", parent_id=q.id)
    assert (a1.parent_id, a2.parent_id, q.parent_id) == (q.id, q.id, None)
    assert contents(store, cid) == ["q", "a2"]
    assert tree.branches(store, cid) == {a1.id: tree.Branch(1, 2), a2.id: tree.Branch(2, 2)}
    assert tree.switch_sibling(store, a2.id, -1) == a1.id
    assert contents(store, cid) == ["q", "a1"]
    assert tree.switch_sibling(store, a1.id, -1) is None  # no sibling before the first
    assert store.latest_message_id(cid) == a1.id
    assert store.count_messages(cid) == 3


def test_paging_walks_up_the_active_path(store: Store) -> None:
    cid = store.create_conversation(model="m").id
    made = [store.append_message(cid, Role.USER, f"m{i}") for i in range(7)]
    store.append_message(cid, Role.USER, "other branch", parent_id=made[2].id)
    tree.select_message(store, made[6].id)
    newest = store.load_messages(cid, limit=3)
    assert [m.content for m in newest] == ["m4", "m5", "m6"]
    older = store.load_messages(cid, limit=3, before_id=newest[0].id)
    assert [m.content for m in older] == ["m1", "m2", "m3"]


def test_a_parent_from_another_conversation_is_refused(store: Store) -> None:
    one = store.create_conversation(model="m").id
    two = store.create_conversation(model="m").id
    foreign = store.append_message(one, Role.USER, "mine")
    with pytest.raises(NotFound):
        store.append_message(two, Role.USER, "x", parent_id=foreign.id)
    assert store.count_messages(two) == 0


def test_a_summary_serves_every_branch_through_its_last_message(store: Store) -> None:
    cid = store.create_conversation(model="m").id
    m = [store.append_message(cid, Role.USER if i % 2 == 0 else Role.ASSISTANT, f"m{i}")
         for i in range(4)]
    early = store.add_summary(cid, "covers m0..m1", first_message_id=m[0].id,
                              last_message_id=m[1].id, covered_count=2)
    late = store.add_summary(cid, "covers m0..m3", first_message_id=m[0].id,
                             last_message_id=m[3].id, covered_count=4)
    assert store.latest_summary(cid) == late
    # A branch from m1: the early summary still holds there, the late one does not.
    store.append_message(cid, Role.USER, "edited m2", parent_id=m[1].id)
    assert store.latest_summary(cid) == early
    assert store.list_summaries(cid) == [early]
    tree.select_message(store, m[3].id)
    assert store.latest_summary(cid) == late
    # A new root (the first message edited): no summary holds.
    store.append_message(cid, Role.USER, "edited m0", parent_id=None)
    assert store.latest_summary(cid) is None and store.list_summaries(cid) == []


def test_delete_branch_takes_what_is_below_and_moves_to_a_sibling(store: Store) -> None:
    cid = store.create_conversation(model="m").id
    q = store.append_message(cid, Role.USER, "q")
    a1 = store.append_message(cid, Role.ASSISTANT, "a1 keepsake")
    store.append_message(cid, Role.ASSISTANT, "a2 doomed", parent_id=q.id)
    store.append_message(cid, Role.USER, "follow-up doomed")
    a2 = store.load_messages(cid)[1]
    assert tree.branch_size(store, a2.id) == 2
    assert tree.delete_branch(store, a2.id) == 2
    assert contents(store, cid) == ["q", "a1 keepsake"]
    assert store.search("doomed") == []  # the search index follows the cascade
    assert [h.message_id for h in store.search("keepsake")] == [a1.id]
    # The flow's delete (a reply retried) ends the path at the parent instead.
    store.delete_message(a1.id)
    assert contents(store, cid) == ["q"]


def test_search_finds_other_branches_and_selecting_a_hit_opens_its_branch(store) -> None:
    cid = store.create_conversation(model="m").id
    q = store.append_message(cid, Role.USER, "q")
    hidden = store.append_message(cid, Role.ASSISTANT, "the platypus answer")
    below = store.append_message(cid, Role.USER, "more on platypus")
    store.append_message(cid, Role.ASSISTANT, "plain answer", parent_id=q.id)
    assert {h.message_id for h in store.search("platypus")} == {hidden.id, below.id}
    assert tree.select_message(store, hidden.id) == below.id  # the newest branch below
    assert contents(store, cid) == ["q", "the platypus answer", "more on platypus"]
    assert tree.select_message(store, hidden.id) == below.id  # already on it: unchanged


def test_fork_copies_the_path_up_to_a_message(store: Store) -> None:
    source = store.create_conversation(model="m", title="Origin", system_prompt="be brief")
    cid = source.id
    m0 = store.append_message(cid, Role.USER, "m0")
    m1 = store.append_message(cid, Role.ASSISTANT, "m1")
    store.append_message(cid, Role.USER, "m2")
    store.add_summary(cid, "s", first_message_id=m0.id, last_message_id=m1.id,
                      covered_count=2)
    copy = tree.fork(store, cid, m1.id)
    assert copy.id != cid and copy.title == "Origin (fork)"
    assert copy.system_prompt == "be brief"
    assert contents(store, copy.id) == ["m0", "m1"]
    copied = store.load_messages(copy.id)
    assert {m.id for m in copied}.isdisjoint({m0.id, m1.id})
    assert copied[1].parent_id == copied[0].id
    summary = store.latest_summary(copy.id)
    assert summary is not None and summary.last_message_id == copied[1].id
    assert contents(store, cid) == ["m0", "m1", "m2"]  # the original is untouched


def test_a_flat_database_upgrades_to_one_path(tmp_path: Path) -> None:
    """A file made by the schema before the tree: each message's parent is the one before."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=migrations.MIGRATIONS.index(migrations._V6_TREE))  # before it
    cids = [ids.new_ulid(), ids.new_ulid()]
    made: dict[str, list[str]] = {cid: [] for cid in cids}
    for cid in cids:
        conn.execute("INSERT INTO conversations (id, title, model, created, updated) "
                     "VALUES (?, 'old', 'gpt-4', '2024-01-01T00:00:00.000Z', "
                     "'2024-01-01T00:00:00.000Z')", (cid,))
    for i in range(6):  # interleaved, as two chats written at once would be
        cid = cids[i % 2]
        mid = ids.new_ulid()
        made[cid].append(mid)
        conn.execute("INSERT INTO messages (id, conversation_id, role, content, created) "
                     "VALUES (?, ?, 'user', ?, '2024-01-01T00:00:00.000Z')",
                     (mid, cid, f"wombat {i}"))
    conn.close()
    with Store(path) as store:
        for cid in cids:
            messages = store.load_messages(cid)
            assert [m.id for m in messages] == made[cid]
            assert [m.parent_id for m in messages] == [None, *made[cid][:-1]]
            assert store.latest_message_id(cid) == made[cid][-1]
        assert len(store.search("wombat")) == 6
        # The upgraded file behaves like a new one: a regenerated answer branches.
        store.append_message(cids[0], Role.ASSISTANT, "branch", parent_id=made[cids[0]][1])
        assert len(store.load_messages(cids[0])) == 3


async def test_regenerate_keeps_every_answer_and_sends_only_the_path(flow, store,
                                                                      fake_openai) -> None:
    fake_openai.script(Script.reply("first"), Script.reply("second"), Script.reply("third"))
    cid = flow.new_conversation().id
    await collect(flow.send(cid, "question"))
    await collect(flow.regenerate(cid))
    await collect(flow.regenerate(cid))
    path = store.load_messages(cid)
    assert [m.content for m in path] == ["question", "third"]
    assert tree.branches(store, cid)[path[1].id] == tree.Branch(3, 3)
    assert fake_openai.chat_requests()[-1]["messages"] == [
        {"role": "user", "content": "question"}]


async def test_edit_branches_from_the_edited_message(flow, store, fake_openai) -> None:
    fake_openai.script(Script.reply("a1"), Script.reply("a2"), Script.reply("a2 again"))
    cid = flow.new_conversation().id
    await collect(flow.send(cid, "first question"))
    await collect(flow.send(cid, "second question"))
    second = store.load_messages(cid)[2]
    events = await collect(flow.edit(cid, second.id, "second, reworded"))
    assert isinstance(events[0], UserMessageStored)
    assert contents(store, cid) == ["first question", "a1", "second, reworded", "a2 again"]
    assert fake_openai.chat_requests()[-1]["messages"] == [
        {"role": "user", "content": "first question"}, {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "second, reworded"}]
    new = store.load_messages(cid)[2]
    assert new.parent_id == second.parent_id
    # The old branch is one switch away, with its answer.
    tree.switch_sibling(store, new.id, -1)
    assert contents(store, cid) == ["first question", "a1", "second question", "a2"]


async def test_an_edit_keeps_the_original_messages_images(flow, store, fake_openai) -> None:
    from tui.core.attachments import ImageFile

    png = ImageFile("shot.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(32))
    fake_openai.script(Script.reply("a picture"), Script.reply("still a picture"))
    cid = flow.new_conversation().id
    await collect(flow.send(cid, "what is this?", images=[png]))
    asked = store.load_messages(cid)[0]
    await collect(flow.edit(cid, asked.id, "what is in this image?"))
    edited = store.load_messages(cid)[0]
    assert edited.id != asked.id and store.images_for([edited.id]) == {edited.id: [png]}
    content = fake_openai.chat_requests()[-1]["messages"][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_url"]
    assert content[0]["text"] == "what is in this image?"


async def test_only_a_user_message_can_be_edited(flow, store, fake_openai) -> None:
    fake_openai.script(Script.reply("a1"))
    cid = flow.new_conversation().id
    await collect(flow.send(cid, "q"))
    answer = store.load_messages(cid)[1]
    events = await collect(flow.edit(cid, answer.id, "rewritten"))
    assert isinstance(events[0], FlowFailed) and len(events) == 1
    assert store.count_messages(cid) == 2


async def test_the_planner_uses_a_summary_on_every_branch_that_shares_its_start(flow, store):
    """A summary of a path's start serves a branch made after it, not one made inside it."""
    conversation = flow.new_conversation()
    cid = conversation.id
    m = [store.append_message(cid, Role.USER if i % 2 == 0 else Role.ASSISTANT, f"m{i}")
         for i in range(6)]
    summary = store.add_summary(cid, "the first four", first_message_id=m[0].id,
                                last_message_id=m[3].id, covered_count=4)
    store.append_message(cid, Role.USER, "a branch after the summary", parent_id=m[3].id)
    plan = flow.preview(store.get_conversation(cid))
    assert plan is not None and plan.summary == summary
    store.append_message(cid, Role.USER, "a branch inside it", parent_id=m[1].id)
    plan = flow.preview(store.get_conversation(cid))
    assert plan is not None and plan.summary is None
    assert [m["content"] for m in plan.messages][-1] == "a branch inside it"
