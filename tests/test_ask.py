"""`gpt-tui ask` as users and scripts run it: a subprocess against the test server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core.net_backend import SLOW_GATHER

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path: Path, fake_openai) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GPT_TUI_DB=str(tmp_path / "ask.db"), OPENAI_BASE_URL=fake_openai.base_url,
               GPT_TUI_MODEL="gpt-4o", PYTHONUNBUFFERED="1")
    return env


def ask(env, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "ask", *args], env=env, cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=60)


def rows(db: str, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_ask_streams_reply_to_stdout_and_id_to_stderr(env, fake_openai):
    fake_openai.script(Script.reply("The answer is 42."))
    result = ask(env, "What is the answer?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The answer is 42.\n"
    assert "conversation: " in result.stderr
    conversation_id = result.stderr.strip().splitlines()[-1].split(": ")[1]
    messages = rows(env["GPT_TUI_DB"], "select role, content, status from messages "
                                       f"where conversation_id = '{conversation_id}' order by id")
    assert messages == [("user", "What is the answer?", "complete"),
                        ("assistant", "The answer is 42.", "complete")]


def test_ask_reads_stdin_and_continue_carries_history(env, fake_openai):
    fake_openai.script(Script.reply("first"), Script.reply("second"))
    assert ask(env, stdin="from stdin\n").returncode == 0
    result = ask(env, "--continue", "follow up", "--system", "Be kind.")
    assert result.returncode == 0, result.stderr
    sent = fake_openai.chat_requests()[-1]["messages"]
    assert sent == [{"role": "system", "content": "Be kind."},
                    {"role": "user", "content": "from stdin\n"},
                    {"role": "assistant", "content": "first"},
                    {"role": "user", "content": "follow up"}]


@pytest.mark.parametrize("args, fragment", [
    (["-c", "NOSUCHID", "hi"], "no conversation"),
    (["--continue", "hi"], "no conversation to continue"),
    ([""], "empty"),
])
def test_bad_usage_exits_2_with_one_line(env, args, fragment):
    result = ask(env, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("gpt-tui: error:") and fragment in lines[0].lower()
    assert "Traceback" not in result.stderr


def test_server_down_exits_1_with_a_clear_message(env):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    result = ask(env, "anyone there?")
    assert result.returncode == 1
    assert f"cannot reach http://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    # The user's message is kept even though the server never answered.
    assert rows(env["GPT_TUI_DB"], "select content from messages where role = 'user'") == [
        ("anyone there?",)]


def test_wrong_key_exits_1(env, fake_openai):
    fake_openai.script(Script.invalid_api_key())
    result = ask(env, "hi")
    assert result.returncode == 1
    assert "401" in result.stderr and "Traceback" not in result.stderr


def _wait_for_partial(db: str, deadline: float) -> str:
    """Poll the database from outside the process until a partial reply is on disk."""
    while time.monotonic() < deadline:
        try:
            found = rows(db, "select content from messages where role = 'assistant'")
        except sqlite3.OperationalError:
            found = []
        if found and found[0][0]:
            return found[0][0]
        time.sleep(0.05)
    raise AssertionError("no partial reply reached the database")


def _start_stream(env, fake_openai) -> subprocess.Popen[str]:
    words = " ".join(f"w{i}" for i in range(400))
    fake_openai.script(Script.reply(words, tps=40, hold_after=60))
    env = dict(env, PYTHONFAULTHANDLER="1")
    return subprocess.Popen([sys.executable, "-m", "tui", "ask", "stream please"], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _communicate(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The process's output once it exits; one that does not within ``timeout`` fails the
    test with every thread's stack (PYTHONFAULTHANDLER: SIGABRT dumps them), so a rare hang
    says where it was (one seen once in a full run on a loaded machine)."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        out, err = process.communicate(timeout=10)
        pytest.fail(f"still running after {timeout} s; {len(out)} characters of reply "
                    f"printed; its threads:\n{err}")


def test_kill_9_mid_stream_leaves_user_message_and_partial_reply(env, fake_openai):
    process = _start_stream(env, fake_openai)
    try:
        partial = _wait_for_partial(env["GPT_TUI_DB"], time.monotonic() + 30)
        process.kill()
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    stored = rows(env["GPT_TUI_DB"], "select role, content, status from messages order by id")
    assert stored[0] == ("user", "stream please", "complete")
    assert stored[1][0] == "assistant" and stored[1][1].startswith(partial)
    assert stored[1][2] == "streaming"


@pytest.mark.parametrize("signum, code, said", [
    (signal.SIGINT, 130, "interrupted"),  # Ctrl-C
    (signal.SIGTERM, 143, "terminated"),  # kill, timeout
])
def test_a_signal_mid_stream_exits_with_its_code_and_keeps_partial_reply_as_interrupted(
        env, fake_openai, signum, code, said):
    process = _start_stream(env, fake_openai)
    try:
        _wait_for_partial(env["GPT_TUI_DB"], time.monotonic() + 30)
        process.send_signal(signum)
        out, err = _communicate(process, timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    assert "Traceback" not in err and f"{said}; the partial reply is kept" in err
    stored = rows(env["GPT_TUI_DB"], "select role, content, status from messages order by id")
    assert stored[1][2] == "interrupted"
    assert stored[1][1] and out.startswith(stored[1][1][:20])
    assert rows(env["GPT_TUI_DB"], "select count(*) from reply_writers") == [(0,)]


# ``gpt-tui ask`` with one more thread, which sends itself ``SIGNAL`` once ``GO`` exists: the
# kernel hands a signal sent to the process to any of its threads, and Python runs handlers in
# the main thread only.
_ASK_WITH_A_THREAD = """
import os, signal, sys, threading, time

def send_when_told():
    while not os.path.exists(os.environ["GO"]):
        time.sleep(0.02)
    signal.pthread_kill(threading.get_ident(), int(os.environ["SIGNAL"]))

threading.Thread(target=send_when_told, daemon=True).start()
sys.argv = ["gpt-tui", "ask", "stream please"]
from tui.cli import entry
entry()
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX threads")
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_another_thread_gets_while_the_reply_pauses_ends_it(env, fake_openai,
                                                                     tmp_path, signum, code):
    """The server pauses mid-reply and the signal goes to a thread that is not the main one.
    asyncio.run's Ctrl-C handler and the SIGTERM handler before it ran only once the main
    thread woke up, which nothing made it do until the server sent more (here a minute)."""
    fake_openai.script(Script.reply(" ".join(f"w{i}" for i in range(200)), tps=40,
                                    hold_after=40))
    go = tmp_path / "go"
    process = subprocess.Popen(
        [sys.executable, "-c", _ASK_WITH_A_THREAD], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env=dict(env, PYTHONFAULTHANDLER="1", GO=str(go), SIGNAL=str(int(signum))))
    try:
        assert fake_openai.holding.wait(30), "the reply never reached its pause"
        # The app reads a slow stream every SLOW_GATHER seconds: after its last read, only
        # the socket (or a signal) can wake it. No event of the app's says when that is.
        time.sleep(SLOW_GATHER + 0.3)
        go.touch()
        started = time.monotonic()
        out, err = _communicate(process, timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    assert time.monotonic() - started < 5
    assert "the partial reply is kept" in err and "Traceback" not in err
    [(content, status)] = rows(env["GPT_TUI_DB"], "select content, status from messages "
                               "where role = 'assistant'")
    assert status == "interrupted" and content and out.strip() == content.strip()


def test_list_shows_what_ask_stored(env, fake_openai):
    fake_openai.script(Script.reply("ok"))
    assert ask(env, "remember me").returncode == 0
    listed = subprocess.run([sys.executable, "-m", "tui", "list", "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert len(data) == 1 and data[0]["title"] == "remember me"


def test_ask_continue_follows_the_active_branch(env, fake_openai):
    """--continue sends the branch the app shows, and adds to it; other branches stay."""
    from tui.core import tree
    from tui.core.models import Role
    from tui.core.store import Store

    with Store(env["GPT_TUI_DB"]) as store:
        cid = store.create_conversation(model="gpt-4o", title="Branched").id
        question = store.append_message(cid, Role.USER, "pick a colour")
        shown = store.append_message(cid, Role.ASSISTANT, "blue")
        store.append_message(cid, Role.ASSISTANT, "red", parent_id=question.id)
        tree.select_message(store, shown.id)
    fake_openai.script(Script.reply("navy, then"))
    result = ask(env, "--continue", "a darker one?")
    assert result.returncode == 0, result.stderr
    assert fake_openai.chat_requests()[-1]["messages"] == [
        {"role": "user", "content": "pick a colour"}, {"role": "assistant", "content": "blue"},
        {"role": "user", "content": "a darker one?"}]
    with Store(env["GPT_TUI_DB"]) as store:
        assert [m.content for m in store.load_messages(cid)] == [
            "pick a colour", "blue", "a darker one?", "navy, then"]
        assert store.count_messages(cid) == 5


def test_a_short_question_does_not_wait_for_the_encoding_and_a_long_one_does(env, fake_openai):
    """Issue 14: loading the encoding was a third of `ask`. A request of at most
    EXACT_COUNTS_FROM bytes (so at most that many tokens) is sent on estimates, stored as
    such; a longer one is counted exactly as before."""
    from tui.ask_command import EXACT_COUNTS_FROM

    fake_openai.script(Script.reply("short"), Script.reply("long"))
    assert ask(env, "a short question").returncode == 0
    long_prompt = "word " * (EXACT_COUNTS_FROM // 5 + 10)
    result = ask(env, long_prompt)
    assert result.returncode == 0, result.stderr
    stored = rows(env["GPT_TUI_DB"], "select content, token_encoding from messages "
                                     "where role = 'user' order by id")
    assert stored == [("a short question", "estimate"), (long_prompt, "o200k_base")]



def test_a_reader_that_leaves_mid_reply_ends_ask_quietly_and_keeps_the_partial_reply(
        env, fake_openai):
    """``gpt-tui ask ... | head -1``: the reader leaves after the first line. The reply stops
    at once (nothing more is asked of the server), what arrived is kept as interrupted, and
    the exit is quiet and 0, as for ``list``: the reader got what it asked for."""
    lines = "\n".join(f"line {i}" for i in range(400))
    fake_openai.script(Script.reply(lines, tps=200, hold_after=60))
    process = subprocess.Popen([sys.executable, "-m", "tui", "ask", "lines please"], env=env,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read().decode()
        status = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert first == b"line 0\n"
    assert status == 0, errors
    assert "Traceback" not in errors and "error" not in errors
    assert "conversation: " in errors
    stored = rows(env["GPT_TUI_DB"], "select role, content, status from messages order by id")
    assert stored[1][0] == "assistant" and stored[1][2] == "interrupted"
    assert stored[1][1].startswith("line 0\n") and len(stored[1][1]) < len(lines)
    assert rows(env["GPT_TUI_DB"], "select count(*) from reply_writers") == [(0,)]


@pytest.mark.parametrize("args, said", [
    (("-c", "abc", "hi"), "no conversation with id 'abc'"),
    (("--continue", "hi"), "there is no conversation to continue"),
    (("--persona", "poet", "hi"), "no persona named 'poet'"),
])
def test_a_chat_or_persona_named_from_a_missing_database_creates_none(env, tmp_path, args,
                                                                       said):
    result = ask(env, *args)
    assert result.returncode == 2
    assert result.stderr == f"gpt-tui: error: {said} (no database at {env['GPT_TUI_DB']})\n"
    assert not Path(env["GPT_TUI_DB"]).exists()
