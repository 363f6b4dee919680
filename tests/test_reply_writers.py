"""A reply left ``streaming`` by a process that died is closed when the store next opens
(tui/core/reply_writers.py); one another program is still writing is not."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.test_migrations import _old_file
from tui.core.models import Message, MessageStatus, Role
from tui.core.reply_writers import Writer, host, is_running, process_start, this_process
from tui.core.store import Store

KILLED_MID_REPLY = textwrap.dedent("""
    import os, signal, sys
    from tui.core.models import Message, MessageStatus, Role
    from tui.core.store import Store
    store = Store(sys.argv[1])
    chat = store.create_conversation(model="m", title="Cut")
    store.append_message(chat.id, Role.USER, "Tell me a story.")
    reply = store.append_message(chat.id, Role.ASSISTANT, "", status=MessageStatus.STREAMING)
    store.update_message(reply.id, content="Once upon a")  # a flush of the text so far
    print(reply.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # as a closed terminal or kill -9 would end it
""")


def streaming_reply(store: Store) -> Message:
    """A new chat's reply, stored as streaming by this process."""
    chat = store.create_conversation(model="m")
    return store.append_message(chat.id, Role.ASSISTANT, "", status=MessageStatus.STREAMING)


def writers(store: Store) -> list[tuple[str, str, int]]:
    return store.read(lambda conn: conn.execute(
        "SELECT message_id, host, pid FROM reply_writers").fetchall())


def test_a_reply_whose_process_was_killed_is_interrupted_with_its_text(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    run = subprocess.run([sys.executable, "-c", KILLED_MID_REPLY, str(path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr
    reply_id = run.stdout.strip()
    with Store(path) as store:
        reply = store.get_message(reply_id)
        assert reply.status is MessageStatus.INTERRUPTED
        assert reply.content == "Once upon a"
        assert reply.needs_retry
        assert writers(store) == []
        assert [hit.message_id for hit in store.search("upon")] == [reply_id]


def test_a_reply_another_program_is_writing_stays_streaming(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    with Store(path) as writing:
        reply = streaming_reply(writing)
        assert writers(writing) == [(reply.id, host(), os.getpid())]
        with Store(path) as other:  # another window opening the same file meanwhile
            assert other.get_message(reply.id).status is MessageStatus.STREAMING
        writing.update_message(reply.id, content="Done.", status=MessageStatus.COMPLETE)
        assert writers(writing) == []
        assert writing.get_message(reply.id).status is MessageStatus.COMPLETE


def test_writers_on_other_hosts_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    with Store(path) as store:
        reply = streaming_reply(store)
        store.write(lambda conn: conn.execute(
            "UPDATE reply_writers SET host = 'elsewhere', pid = 999999999"))
    with Store(path) as store:
        assert store.get_message(reply.id).status is MessageStatus.STREAMING


def test_a_pid_given_to_another_process_is_not_the_writer(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = process_start(child.pid)
        assert is_running(Writer(host(), child.pid, started))
        if started is not None:  # Linux: the start time tells a reused pid
            assert not is_running(Writer(host(), child.pid, started + 1))
    finally:
        child.kill()
        child.wait()
    assert not is_running(Writer(host(), child.pid, started))
    assert is_running(this_process())


def test_deleting_a_streaming_reply_deletes_its_writer(tmp_path: Path) -> None:
    with Store(tmp_path / "chats.db") as store:
        reply = streaming_reply(store)
        store.delete_message(reply.id)
        assert writers(store) == []


def test_replies_streaming_before_the_upgrade_are_interrupted(tmp_path: Path) -> None:
    """Files from before writers were recorded: nothing can say who wrote such a reply;
    whoever did and still runs stores its end over this."""
    path = tmp_path / "old.db"
    _, mid = _old_file(path, 14)  # the version before writers were recorded
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE messages SET role = 'assistant', status = 'streaming'")
    conn.close()
    with Store(path) as store:
        message = store.get_message(mid)
        assert message.status is MessageStatus.INTERRUPTED
        assert message.content == "ancient wisdom"
