"""tui.ask_signals: a signal cancels the command's task; a cleanup that does not end in time,
or a second signal, ends the process anyway with the signal's code (run in a subprocess:
the signals and the exit are the process's)."""

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
    from tui.ask_signals import SignalEnd, ending_on_signals, exit_now

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
