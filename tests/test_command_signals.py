"""tui.command_signals (ask, context): a signal cancels the command's task; a cleanup that
does not end in time, or a second signal, ends the process anyway with the signal's code (run
in a subprocess: the signals and the exit are the process's)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import asyncio, os, signal, sys
    from tui.command_signals import SignalEnd, ending_on_signals, exit_now

    async def work():
        os.kill(os.getpid(), int(sys.argv[1]))
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            print("cancelled", flush=True)
            if sys.argv[2] == "stuck":  # a cleanup that never ends
                await asyncio.get_running_loop().create_future()
            raise
        return 0

    ended = SignalEnd()
    forced = lambda signum: exit_now(128 + signum, lambda: print("forced", flush=True))
    try:
        asyncio.run(ending_on_signals(work(), ended, forced, grace=0.5))
    except asyncio.CancelledError:
        print("ended by", ended.signum, "code", ended.exit_code, flush=True)
""")


def run(signum: int, cleanup: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(int(signum)), cleanup], cwd=ROOT,
                          capture_output=True, text=True, timeout=20)


@pytest.mark.skipif(sys.platform == "win32", reason="the loop takes no signals on Windows")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_cancels_the_work_and_says_which(signum: int) -> None:
    result = run(signum, "quick")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["cancelled",
                                             f"ended by {int(signum)} code {128 + signum}"]


@pytest.mark.skipif(sys.platform == "win32", reason="the loop takes no signals on Windows")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_cleanup_that_does_not_end_is_cut_short_with_the_signals_code(signum: int) -> None:
    result = run(signum, "stuck")
    assert result.returncode == 128 + signum, result.stderr
    assert result.stdout.split("\n")[:2] == ["cancelled", "forced"]


# A command with one more thread, which sends itself SIGNAL once the file GO exists: the
# kernel hands a signal sent to a process to any of its threads.
WITH_A_THREAD = textwrap.dedent("""
    import os, signal, sys, threading, time

    def send_when_told():
        while not os.path.exists(os.environ["GO"]):
            time.sleep(0.02)
        signal.pthread_kill(threading.get_ident(), int(os.environ["SIGNAL"]))

    threading.Thread(target=send_when_told, daemon=True).start()
    sys.argv = ["gpt-tui", *sys.argv[1:]]
    from tui.cli import entry
    entry()
""")


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX threads")
def test_context_ends_on_ctrl_c_while_a_server_does_not_answer(tmp_path: Path) -> None:
    """`gpt-tui context` asks the server for the model's window first; a server that takes
    the connection and never answers held it until the HTTP timeout, a Ctrl-C another
    thread got included."""
    import os
    import select
    import socket
    import time

    from tui.core.models import Role
    from tui.core.store import Store

    with Store(tmp_path / "chat.db") as store:
        conversation = store.create_conversation(model="local-model", title="t")
        store.append_message(conversation.id, Role.USER, "hello")
    silent = socket.create_server(("127.0.0.1", 0))
    go = tmp_path / "go"
    env = dict(os.environ, GPT_TUI_DB=str(tmp_path / "chat.db"), GO=str(go),
               SIGNAL=str(int(signal.SIGINT)),
               OPENAI_BASE_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/v1")
    process = subprocess.Popen([sys.executable, "-c", WITH_A_THREAD, "context",
                                conversation.id], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert select.select([silent], [], [], 30)[0], "context never asked the server"
        time.sleep(0.3)  # the request written, the loop asleep waiting for the answer
        go.touch()
        started = time.monotonic()
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
        silent.close()
    assert process.returncode == 130, err
    assert time.monotonic() - started < 5
    assert "interrupted" in err and "Traceback" not in err
