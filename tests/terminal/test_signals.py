"""``kill``, ``kill -INT`` and a closed terminal window end the app as ctrl+q does (tui/ui/app.py,
``ENDING_SIGNALS``): the streaming reply stored as interrupted with all the text it had, and,
after ``kill``, the terminal given back (no alternate screen, no mouse reports)."""

from __future__ import annotations

import os
import signal

import pytest

from tests.fake_openai.scripts import Script
from tests.terminal.harness import ENTER
from tui.core.models import MessageStatus, Role
from tui.core.store import Store

WORDS = " ".join(f"word{n}" for n in range(400))


@pytest.mark.parametrize("name, code", [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)])
def test_a_signal_mid_reply_stores_it_interrupted_and_exits(launch, db_path, fake_openai,
                                                           name, code):
    fake_openai.script(Script.reply(WORDS, tps=40))
    term = launch(size=(100, 30))
    term.wait_for("Message…")
    term.send("Tell me a lot.")
    term.wait_for("Tell me a lot.")
    term.send(ENTER)
    term.wait_for("word20")
    if name == "SIGHUP":
        term.hang_up()
    else:
        os.kill(term.process.pid, getattr(signal, name))
    assert term.process.wait(15) == code
    output = term.output()
    if name != "SIGHUP":  # the terminal is still there: given back as it was found
        assert output.rfind(b"\x1b[?1049l") > output.rfind(b"\x1b[?1049h")
        assert output.rfind(b"\x1b[?1000l") > output.rfind(b"\x1b[?1000h")
    with Store(db_path) as store:
        chat = store.list_conversations()[0]
        reply = [m for m in store.load_messages(chat.id) if m.role is Role.ASSISTANT][0]
    assert reply.status is MessageStatus.INTERRUPTED
    shown = term.text()  # the last frame read before the end
    last_shown = max(int(word[4:]) for word in shown.split() if word.startswith("word")
                     and word[4:].isdigit())
    assert f"word{last_shown}" in reply.content, "everything shown was stored"


def test_a_closed_window_ends_the_app_while_frames_pour_out(launch, fake_openai):
    """The window closed in the middle of a fast reply, every write failing from then on
    (EIO): the app ends, 129, within seconds. (Textual's writer thread died of such a write
    and, once 30 more were queued, the app hung at exit: two from killed tmux sessions were
    found hours later. tests/test_safe_writer.py shows that hang; here the app writes too
    little after the hang-up to reach it.)"""
    fake_openai.script(Script.reply(" ".join(f"word{n}" for n in range(6000)), tps=2000))
    term = launch(size=(100, 30))
    term.wait_for("Message…")
    term.send("Tell me a lot.")
    term.wait_for("Tell me a lot.")
    term.send(ENTER)
    term.wait_for("word50")
    term.hang_up()
    assert term.process.wait(15) == 129
