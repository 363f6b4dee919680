"""The console script's quick exit (tui.cli.entry / finish_quickly): nothing Python's own
exit would have done is lost, only the interpreter's teardown is skipped."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """
import atexit, threading, time
from tui.cli import finish_quickly

def slow_job():
    time.sleep(0.2)  # still working when the main thread is done
    print("job done", flush=True)

threading.Thread(target=slow_job).start()
atexit.register(lambda: print("atexit ran"))
print("buffered, not flushed", end="")
finish_quickly(3)
print("never reached")
"""


def test_threads_atexit_and_buffered_output_are_kept_and_the_status_returned() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 3
    assert result.stdout.startswith("buffered, not flushed")  # a pipe: block-buffered
    assert "job done" in result.stdout
    assert result.stdout.rstrip().endswith("atexit ran")
    assert "never reached" not in result.stdout
    assert result.stderr == ""


def test_a_reader_that_went_away_is_not_an_error() -> None:
    program = ("import os, sys\nfrom tui.cli import finish_quickly\n"
               "r, w = os.pipe(); os.close(r)\n"
               "sys.stdout = os.fdopen(w, 'w')\n"
               "print('x' * 100)\n"
               "finish_quickly(0)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr


def test_the_console_script_and_python_m_tui_use_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["gpt-tui"] == "tui.cli:entry"
    result = subprocess.run([sys.executable, "-m", "tui", "--version"], capture_output=True,
                            text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("gpt-tui ")
