"""Issue 9, part 2 items 4 and 6: what lives in the database outlives one app.

* Two instances on one database: the open conversation shows what the other one added, and
  a request never carries a message the screen has not shown.
* Drafts survive a restart, per conversation.
"""

from __future__ import annotations

from tests.terminal.harness import ENTER, TerminalTimeout
from tests.test_app_support import seed_conversation
from tui.core.store import Store

PAGE_DOWN_CHAT = b"\x1b[6;5~"  # Ctrl+PgDn: next chat


def test_the_open_chat_shows_what_another_instance_added(launch, db_path, fake_openai):
    with Store(db_path) as store:
        seed_conversation(store, "Shared chat", updated="2026-03-01T09:00:00.000Z")
    first = launch(size=(100, 30))
    first.wait_for("answer 0")
    second = launch(size=(100, 30))
    second.wait_for("answer 0")
    second.send("from the second")
    second.wait_for("from the second")
    second.send(ENTER)
    second.wait_for("You said: from the second")
    try:
        first.wait_for("You said: from the second")
        followed = True
    except TerminalTimeout:
        followed = False
    # Whatever the first one shows, what it sends next must be what it has shown.
    shown = first.text()
    first.send("from the first")
    first.wait_for("from the first")
    first.send(ENTER)
    first.wait_for("You said: from the first")
    carried = [m["content"] for m in fake_openai.chat_requests()[-1]["messages"]]
    unseen = [text for text in carried if "from the second" in text and text not in shown]
    assert followed and not unseen, (
        f"the first instance {'showed' if followed else 'never showed'} the second's "
        f"message; its request carried unseen messages {unseen}; its screen:\n{shown}")


def test_drafts_survive_a_restart_per_conversation(launch, db_path):
    with Store(db_path) as store:
        seed_conversation(store, "Chat one", updated="2026-03-02T09:00:00.000Z",
                          text=lambda i: ("one asks", "one answers"))
        seed_conversation(store, "Chat two", updated="2026-03-01T09:00:00.000Z",
                          text=lambda i: ("two asks", "two answers"))
    term = launch(size=(100, 30))
    term.wait_for("one answers")
    term.send("draft for one")
    term.wait_for("draft for one")
    term.send(PAGE_DOWN_CHAT)
    term.wait_for("two answers")
    term.send("draft for two")
    term.wait_for("draft for two")
    assert term.quit() == 0

    again = launch(size=(100, 30))
    again.wait_for("one answers")
    again.wait_for("draft for one")
    again.send(PAGE_DOWN_CHAT)
    again.wait_for("two answers")
    again.wait_for("draft for two")
