"""Start-up cost: the big imports run without the cycle collector (see tui.cli._importing).

Textual and the openai SDK allocate ~170k long-lived objects and no garbage while they are
imported; with the collector on, ~180 collections (~120 ms, a full one among them) ran for
nothing on every start, the app's included. Needs a fresh interpreter: imports happen once.
"""

from __future__ import annotations

import gc
import io
import subprocess
import sys
from contextlib import redirect_stdout

from tui.cli import main

COUNT_COLLECTIONS = """
import contextlib, gc, io
import tui.cli  # its own module-level imports are not under test
runs = []
gc.callbacks.append(lambda phase, info: runs.append(info) if phase == "stop" else None)
with contextlib.redirect_stdout(io.StringIO()):
    tui.cli.main(["--version"])  # builds the parser (every command registers)
print(len(runs), gc.isenabled())
"""


def test_building_the_command_line_runs_no_collection():
    result = subprocess.run([sys.executable, "-c", COUNT_COLLECTIONS], capture_output=True,
                            text=True, check=True, timeout=60)
    collections, enabled = result.stdout.split()
    # The parsing after the imports may run one or two; before, ~150 ran.
    assert int(collections) <= 3 and enabled == "True", result.stdout + result.stderr


def test_main_leaves_the_collector_as_it_found_it():
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            with redirect_stdout(io.StringIO()):
                main(["--version"])
            assert gc.isenabled() is state
    finally:
        (gc.enable if was else gc.disable)()
