"""Issue 9, part 2 item 1: ``gpt-tui --model X`` talks to X (the README's headline example)."""

from __future__ import annotations

from tests.terminal.harness import CTRL_N, ENTER
from tui.core.models import Role
from tui.core.store import Store

MODEL = "llama3.1:8b"


def status_row_shows(term, text: str) -> bool:
    """``text`` is in the bottom rows (status line and footer), not only in a message."""
    return any(text in row for row in term.rows()[-3:])


def send(term, text: str) -> None:
    term.send(text)
    term.wait_for(text)
    term.send(ENTER)
    term.wait_for(f"You said: {text}")


def test_a_fresh_database_talks_to_the_flag_model(launch, fake_openai):
    term = launch("--model", MODEL)
    term.wait_until(lambda _: status_row_shows(term, MODEL), what=f"{MODEL} in the status line")
    send(term, "hello")
    assert [body["model"] for body in fake_openai.chat_requests()] == [MODEL]


def test_the_reopened_empty_chat_and_new_chats_use_the_flag_model(launch, fake_openai,
                                                                   db_path):
    with Store(db_path) as store:
        old = store.create_conversation(model="gpt-4o", title="Older chat")
        store.append_message(old.id, Role.USER, "earlier question")
        store.append_message(old.id, Role.ASSISTANT, "earlier answer", model="gpt-4o")
        store.update_conversation(old.id, updated="2026-01-01T00:00:00.000Z")
        store.create_conversation(model="gpt-4o", title="Left empty")  # the newest: reopened
    term = launch("--model", MODEL)
    term.wait_for("Message…")
    term.wait_until(lambda _: status_row_shows(term, MODEL), what=f"{MODEL} in the status line")
    send(term, "first")
    term.send(CTRL_N)
    term.wait_gone("You said: first")
    send(term, "second")
    assert [body["model"] for body in fake_openai.chat_requests()] == [MODEL, MODEL]
