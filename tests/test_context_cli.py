"""`gpt-tui windows`, `strategy`, `context`, `pin` and `ask --strategy`, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main
from tui.core.models import Role, Strategy
from tui.core.store import Store


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai) -> Path:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("GPT_TUI_DB", str(db))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("GPT_TUI_MODEL", "gpt-4o")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return db


def conversation_with_history(db: Path, turns: int = 3) -> str:
    with Store(db) as store:
        c = store.create_conversation(model="gpt-4o", strategy=Strategy.TRUNCATE)
        for i in range(turns):
            store.append_message(c.id, Role.USER, f"question {i}")
            store.append_message(c.id, Role.ASSISTANT, f"answer {i}")
        return c.id


def test_strategy_shows_and_sets_an_existing_chats_strategy(env, capsys) -> None:
    cid = conversation_with_history(env)
    assert main(["strategy", cid[:10]]) == 0
    assert capsys.readouterr().out.strip() == "truncate"
    assert main(["strategy", cid, "off"]) == 0
    with Store(env) as store:
        assert store.get_conversation(cid).strategy == Strategy.OFF
    assert main(["strategy", cid, "sometimes"]) == 2
    assert main(["strategy", "ZZZZZZZZ"]) == 2
    assert "no conversation" in capsys.readouterr().err


def test_ask_strategy_applies_to_new_and_continued_chats(env, fake_openai, capsys) -> None:
    assert main(["ask", "--strategy", "off", "hello"]) == 0
    with Store(env) as store:
        (c,) = store.list_conversations()
        assert c.strategy == Strategy.OFF
    assert main(["ask", "--continue", "--strategy", "truncate", "again"]) == 0
    with Store(env) as store:
        assert store.get_conversation(c.id).strategy == Strategy.TRUNCATE


def test_windows_lists_sources_per_server_and_forgets(env, capsys) -> None:
    with Store(env) as store:
        store.set_model_window("llama", 1024, source="error",
                               base_url="http://u:secret@box:8080/v1")
        store.set_model_window("qwen", 32768, source="server", base_url="http://big:8000/v1")
    assert main(["windows"]) == 0
    out = capsys.readouterr().out
    assert "llama" in out and "1k" in out and "error" in out and "http://box:8080/v1" in out
    assert "32k" in out and "server" in out and "secret" not in out
    assert main(["windows", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["model"], r["window"], r["source"]) for r in rows} == {
        ("llama", 1024, "error"), ("qwen", 32768, "server")}
    assert main(["windows", "--forget", "llama"]) == 0
    assert main(["windows", "--forget", "llama"]) == 2
    with Store(env) as store:
        assert [w.model for w in store.list_model_windows()] == ["qwen"]


def test_context_prints_the_next_request_without_sending(env, fake_openai, capsys) -> None:
    cid = conversation_with_history(env)
    with Store(env) as store:
        store.update_conversation(cid, context_window=4096)
    assert main(["context", cid]) == 0
    out = capsys.readouterr().out
    assert "window 4k" in out and "conversation" in out and "reply reserve" in out
    assert out.count("sent ") == 6
    # Worded as the app's preview: "estimated" alone contradicted the app's meter (no ≈).
    assert "(counted locally: exact on OpenAI's own models, else an estimate)" in out
    assert fake_openai.chat_requests() == [], "nothing is sent to the model"
    assert main(["context", cid, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["window"] == 4096 and data["window_source"] == "conversation"
    assert [i["fate"] for i in data["items"]] == ["sent"] * 6
    assert data["messages"][-1] == {"role": "assistant", "content": "answer 2"}


def test_context_of_a_chat_whose_last_reply_filled_the_window(env, fake_openai,
                                                                capsys) -> None:
    """The next send drops (or summarizes) a reply too big to resend, and goes through: the
    preview said the chat "cannot be sent as is"."""
    with Store(env) as store:
        c = store.create_conversation(model="gpt-4o", strategy=Strategy.TRUNCATE,
                                      context_window=2048)
        store.append_message(c.id, Role.USER, "Write a very long story.")
        store.append_message(c.id, Role.ASSISTANT, " ".join(f"w{i}" for i in range(3000)))
    assert main(["context", c.id, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["error"] is None
    assert [i["fate"] for i in data["items"]] == ["dropped", "dropped"]  # a turn goes whole
    assert data["tokens"] <= data["available"]
    assert all(m["role"] == "system" for m in data["messages"])  # the stand-in is not shown


def test_pin_marks_a_message_by_prefix(env, capsys) -> None:
    cid = conversation_with_history(env)
    with Store(env) as store:
        first = store.load_messages(cid)[0]
    assert main(["pin", cid, first.id[-12:]]) == 2  # not a prefix
    assert main(["pin", cid, first.id]) == 0
    with Store(env) as store:
        assert store.get_message(first.id).pinned
    assert main(["pin", cid, first.id, "--unpin"]) == 0
    with Store(env) as store:
        assert not store.get_message(first.id).pinned
