"""The conversation store: CRUD, ordering, paging, cascade, search and sharing one file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.models import HIGHLIGHT_END, HIGHLIGHT_START, MessageStatus, Role, Strategy
from tui.core.store import (
    AmbiguousId,
    NoDatabase,
    NotFound,
    SCHEMA_VERSION,
    Store,
    StoreError,
)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "sub" / "t.db") as s:
        yield s


def test_open_creates_file_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "t.db"
    with Store(path) as s:
        assert path.is_file()
        assert s.schema_version == SCHEMA_VERSION
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert s.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_create_false_never_creates_a_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(NoDatabase, match="no database at"):
        Store(path, create=False)
    assert not path.exists()
    with Store(path):
        pass
    with Store(path, create=False) as s:
        assert s.count_conversations() == 0


def test_conversation_crud(store: Store) -> None:
    c = store.create_conversation(model="gpt-4o", title="First", system_prompt="be brief",
                                  strategy="truncate", temperature=0.5, context_window=8000)
    got = store.get_conversation(c.id)
    assert got == c
    assert got.strategy is Strategy.TRUNCATE
    renamed = store.rename_conversation(c.id, "Renamed")
    assert renamed.title == "Renamed" and renamed.updated == c.updated
    assert store.set_pinned(c.id, True).pinned is True
    assert store.set_archived(c.id, True).archived is True
    updated = store.update_conversation(c.id, top_p=0.9, token_correction=3.5, model="m2")
    assert (updated.top_p, updated.token_correction, updated.model) == (0.9, 3.5, "m2")
    with pytest.raises(ValueError):
        store.update_conversation(c.id, id="X")
    with pytest.raises(NotFound):
        store.get_conversation("nope")
    with pytest.raises(NotFound):
        store.rename_conversation("nope", "x")


def test_listing_order_paging_and_archive_filter(store: Store) -> None:
    made = [store.create_conversation(model="m", title=f"c{i}") for i in range(6)]
    for i, c in enumerate(made):  # distinct, old timestamps: creation within 1 ms would tie
        store.update_conversation(c.id, updated=f"2020-01-0{i + 1}T00:00:00.000Z")
    store.append_message(made[1].id, "user", "bump")  # made[1] is now the most recent
    store.set_pinned(made[3].id, True)
    store.set_archived(made[5].id, True)
    titles = [c.title for c in store.list_conversations()]
    assert titles == ["c3", "c1", "c4", "c2", "c0"]
    assert [c.title for c in store.list_conversations(limit=2, offset=1)] == ["c1", "c4"]
    assert [c.title for c in store.list_conversations(archived=True)] == ["c5"]
    assert len(store.list_conversations(archived=None)) == 6
    assert store.count_conversations() == 5
    assert store.count_conversations(archived=None) == 6
    assert store.latest_conversation().title == "c1"
    store.touch_conversation(made[5].id)
    assert store.latest_conversation().title == "c1"
    assert store.latest_conversation(include_archived=True).title == "c5"


def test_latest_conversation_empty(store: Store) -> None:
    assert store.latest_conversation() is None
    assert store.list_conversations() == []


def test_resolve_prefix(store: Store) -> None:
    a = store.create_conversation(model="m")
    b = store.create_conversation(model="m")
    assert store.resolve_conversation(a.id) == a
    assert store.resolve_conversation(b.id.lower()) == b
    common = 0
    while a.id[common] == b.id[common]:
        common += 1
    assert store.resolve_conversation(b.id[: common + 1]) == b
    with pytest.raises(AmbiguousId):
        store.resolve_conversation(a.id[:common])
    for bad in ("", "zz-not-an-id", "%", "U"):
        with pytest.raises(NotFound):
            store.resolve_conversation(bad)


def test_messages_append_update_and_paging(store: Store) -> None:
    c = store.create_conversation(model="m")
    before = store.get_conversation(c.id).updated
    made = [store.append_message(c.id, Role.USER if i % 2 == 0 else "assistant", f"msg {i}")
            for i in range(25)]
    assert [m.id for m in made] == sorted(m.id for m in made)
    assert store.get_conversation(c.id).updated >= before
    assert store.count_messages(c.id) == 25
    assert [m.content for m in store.load_messages(c.id)] == [f"msg {i}" for i in range(25)]
    page = store.load_messages(c.id, limit=10)
    assert [m.content for m in page] == [f"msg {i}" for i in range(15, 25)]
    older = store.load_messages(c.id, limit=10, before_id=page[0].id)
    assert [m.content for m in older] == [f"msg {i}" for i in range(5, 15)]
    oldest = store.load_messages(c.id, limit=10, before_id=older[0].id)
    assert [m.content for m in oldest] == [f"msg {i}" for i in range(5)]

    reply = store.append_message(c.id, "assistant", "", status="streaming", model="m")
    assert reply.status is MessageStatus.STREAMING
    store.update_message(reply.id, content="partial answer", status=MessageStatus.INTERRUPTED,
                         prompt_tokens=12, completion_tokens=3, finish_reason="stop",
                         token_count=7, token_encoding="o200k_base")
    got = store.get_message(reply.id)
    assert (got.content, got.status, got.prompt_tokens, got.completion_tokens) == (
        "partial answer", MessageStatus.INTERRUPTED, 12, 3)
    assert got.role is Role.ASSISTANT and got.token_encoding == "o200k_base"
    with pytest.raises(ValueError):
        store.update_message(reply.id, conversation_id="x")
    with pytest.raises(NotFound):
        store.update_message("nope", content="x")
    store.delete_message(reply.id)
    with pytest.raises(NotFound):
        store.get_message(reply.id)
    with pytest.raises(NotFound):
        store.append_message("nope", "user", "x")


def test_message_counts(store: Store) -> None:
    a = store.create_conversation(model="m")
    b = store.create_conversation(model="m")
    for _ in range(3):
        store.append_message(a.id, "user", "x")
    assert store.message_counts([a.id, b.id]) == {a.id: 3, b.id: 0}


def test_summaries(store: Store) -> None:
    c = store.create_conversation(model="m")
    msgs = [store.append_message(c.id, "user", f"m{i}") for i in range(4)]
    assert store.latest_summary(c.id) is None
    s1 = store.add_summary(c.id, "first part", first_message_id=msgs[0].id,
                           last_message_id=msgs[1].id, covered_count=2, token_count=5)
    s2 = store.add_summary(c.id, "more", first_message_id=msgs[0].id,
                           last_message_id=msgs[3].id, covered_count=4,
                           previous_summary_id=s1.id, model="m")
    assert store.latest_summary(c.id) == s2
    assert store.list_summaries(c.id) == [s1, s2]
    with pytest.raises(NotFound):
        store.add_summary("nope", "x", first_message_id="a", last_message_id="b",
                          covered_count=1)


def test_delete_cascades_to_messages_summaries_and_search(store: Store) -> None:
    c = store.create_conversation(model="m", title="zebra talk")
    m = store.append_message(c.id, "user", "zebra stripes")
    store.add_summary(c.id, "s", first_message_id=m.id, last_message_id=m.id, covered_count=1)
    other = store.create_conversation(model="m", title="other")
    store.append_message(other.id, "user", "kept")
    assert len(store.search("zebra")) == 2
    store.delete_conversation(c.id)
    assert store.search("zebra") == []
    counts = [store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("messages", "summaries", "conversations")]
    assert counts == [1, 0, 1]
    store.conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    store.conn.execute(
        "INSERT INTO conversations_fts (conversations_fts) VALUES ('integrity-check')")
    with pytest.raises(NotFound):
        store.delete_conversation(c.id)


def test_model_windows(store: Store) -> None:
    assert store.get_model_window("llama") is None
    store.set_model_window("llama", 4096, source="error")
    store.set_model_window("llama", 8192, source="props")
    assert store.get_model_window("llama") == 8192
    row = store.conn.execute("SELECT source FROM server_windows").fetchall()
    assert row == [("props",)]


def test_search_titles_messages_highlight_and_updates(store: Store) -> None:
    a = store.create_conversation(model="m", title="Python packaging")
    b = store.create_conversation(model="m", title="Dinner")
    m = store.append_message(b.id, "user", "how do I cook pythons? (joke)")
    hits = store.search("python")
    assert hits[0].conversation.id == a.id and hits[0].message_id is None
    assert hits[0].snippet == f"{HIGHLIGHT_START}Python{HIGHLIGHT_END} packaging"
    assert [h.message_id for h in hits[1:]] == [m.id]  # prefix: "python" matches "pythons"
    assert f"{HIGHLIGHT_START}pythons{HIGHLIGHT_END}" in hits[1].snippet
    assert store.search("python ") == hits[:1]  # a trailing space ends the prefix match
    store.update_message(m.id, content="nothing to see")
    assert [h.message_id for h in store.search("pythons")] == []
    assert store.search("nothing")[0].message_id == m.id
    store.rename_conversation(a.id, "Rust")
    assert store.search("python") == []
    store.set_archived(b.id, True)
    assert store.search("nothing", include_archived=False) == []
    assert len(store.search("nothing")) == 1


def test_search_limit_and_diacritics(store: Store) -> None:
    c = store.create_conversation(model="m")
    for i in range(5):
        store.append_message(c.id, "user", f"café number {i}")
    assert len(store.search("cafe", limit=3)) == 3
    assert store.search("cafe", limit=0) == []


@pytest.fixture(scope="module")
def search_store(tmp_path_factory):
    with Store(tmp_path_factory.mktemp("fts") / "s.db") as s:
        c = s.create_conversation(model="m", title="a b AND")
        s.append_message(c.id, "user", 'a "quoted" b * - NOT OR NEAR(a b)')
        yield s


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list('ab "*-:()^+.,\'AND OR NOT NEAR{}_\\')),
                    max_size=20))
def test_search_never_fails_on_fts_syntax(search_store: Store, text: str) -> None:
    hits = search_store.search(text)
    assert all(h.conversation.title == "a b AND" for h in hits)


def test_two_stores_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Store(path).close()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            with Store(path) as s:
                c = s.create_conversation(model="m", title=name)
                barrier.wait()
                for i in range(100):
                    m = s.append_message(c.id, "user", f"{name} {i}")
                    s.update_message(m.id, content=f"{name} {i} done")
                s.set_model_window(name, 100, source="test")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(path) as s:
        assert s.count_conversations() == 2
        for c in s.list_conversations():
            assert s.count_messages(c.id) == 100
        assert len(s.search("done", limit=500)) == 200


def test_store_is_usable_from_several_threads(store: Store) -> None:
    c = store.create_conversation(model="m")

    def work() -> None:
        for _ in range(50):
            store.append_message(c.id, "user", "x")
            store.load_messages(c.id, limit=5)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_messages(c.id) == 200


def test_closed_store_raises_store_error(tmp_path: Path) -> None:
    s = Store(tmp_path / "t.db")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.list_conversations()


def test_query_parsing_quotes_everything_and_limits_prefixes() -> None:
    from tui.core.store_search import fts_query, parse_query

    q = parse_query('say "hi" AND* -x')
    assert q is not None and q.exact == '"say" """hi""" "AND*" "-x"'
    assert q.prefix is None  # "-x" is too short to be a prefix
    assert parse_query("pyt").prefix == '"pyt"*'
    assert parse_query("pyt ").prefix is None
    assert parse_query(" - * \" ") is None
    assert fts_query("python", prefix_last=False) == '"python"'


def test_prefix_completions_follow_ranked_hits_newest_first(store: Store) -> None:
    c = store.create_conversation(model="m")
    old = store.append_message(c.id, "user", "pythonic code")
    exact = store.append_message(c.id, "user", "python python python")
    new = store.append_message(c.id, "user", "pythonista here")
    hits = store.search("python")
    assert [h.message_id for h in hits] == [exact.id, new.id, old.id]
    assert [h.message_id for h in store.search("python ")] == [exact.id]
    assert store.search("py") == []  # shorter than the prefix index: whole words only


def test_ranking_is_bounded_to_newest_candidates(store: Store, monkeypatch) -> None:
    c = store.create_conversation(model="m")
    best = store.append_message(c.id, "user", "kiwi kiwi kiwi kiwi")
    later = [store.append_message(c.id, "user", f"kiwi and other fruit {i}") for i in range(3)]
    assert store.search("kiwi ", limit=1)[0].message_id == best.id
    monkeypatch.setattr(Store, "SEARCH_CANDIDATES", 2)
    ids_found = [h.message_id for h in store.search("kiwi ", limit=10)]
    assert best.id not in ids_found and set(ids_found) <= {m.id for m in later}


def test_archived_messages_filtered_in_every_search_path(store: Store) -> None:
    a = store.create_conversation(model="m")
    store.append_message(a.id, "user", "mango lassi")
    store.append_message(a.id, "user", "mangos galore")
    store.set_archived(a.id, True)
    assert len(store.search("mango")) == 2
    assert store.search("mango", include_archived=False) == []


def test_prefix_completions_give_up_past_their_budget(store: Store, monkeypatch) -> None:
    import tui.core.store_search as store_search

    c = store.create_conversation(model="m", title="plums")
    m = store.append_message(c.id, "user", "plumber plumbing")
    monkeypatch.setattr(store_search, "PREFIX_BUDGET_S", -1.0)  # already past the deadline
    monkeypatch.setattr(store_search, "PROGRESS_STEPS", 1)  # check at every step
    hits = store.search("plum")
    assert [h.message_id for h in hits] == [None]  # the title hit; completions dropped
    monkeypatch.setattr(store_search, "PREFIX_BUDGET_S", 5.0)
    assert [h.message_id for h in store.search("plum")] == [None, m.id]
    assert store.conn.execute("SELECT 1").fetchone() == (1,)  # handler removed
