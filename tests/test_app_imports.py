"""The app's first frame loads only what it shows, checked in a fresh interpreter.

Every dialog, picker and panel (and the exporter, the personas store) is imported when it
is first opened, not at start-up: a module-level import of one of them in the main screen,
its helpers or the app puts it back on every launch, before the first frame. The bundled
themes are read without importlib.resources, which imports zipfile. Same style as
tests/test_cli_imports.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_app_support import SIZE

ROOT = Path(__file__).resolve().parents[1]

# Shown only when asked for (a key, the palette, an action): none is needed to start.
ON_DEMAND = {
    "tui.core.export", "tui.core.personas",
    "tui.ui.screens.code_picker", "tui.ui.screens.context_preview",
    "tui.ui.screens.copy_mode", "tui.ui.screens.dialogs", "tui.ui.screens.edit_message",
    "tui.ui.screens.file_picker", "tui.ui.screens.filter_picker", "tui.ui.screens.help",
    "tui.ui.screens.history_picker", "tui.ui.screens.model_picker",
    "tui.ui.screens.personas", "tui.ui.screens.settings", "tui.ui.screens.system_prompt",
    "tui.ui.screens.text_dialog", "tui.ui.screens.usage_panel",
}

# Starts the app headless on a fresh store, waits for its first frame (Textual's Ready),
# and prints the modules loaded by then.
PROBE = """
import asyncio, json, sys
from textual import events
from tui.core.services import open_services
from tui.ui import app as app_module
from tui.ui.app import GptTuiApp

async def main():
    services = open_services(db_path=sys.argv[1], flags={"base_url": "http://127.0.0.1:9/v1"},
                             load_encoding=False)
    ready = asyncio.Event()
    # The SDK is imported in a thread started after the first frame (by design); it imports
    # zipfile (importlib.metadata) and would race the snapshot of sys.modules below. So
    # would the thread that loads markdown-it and Pygments then.
    services.client.start_warming = lambda: None
    app_module.warm_rendering = lambda: None
    app = GptTuiApp(services)
    hook = lambda message: isinstance(message, events.Ready) and ready.set()
    async with app.run_test(size=(%d, %d), message_hook=hook):
        await ready.wait()
        loaded = sorted(sys.modules)
    await services.aclose()
    print(json.dumps(loaded))

asyncio.run(main())
""" % SIZE


@pytest.fixture(scope="module")
def first_frame_modules(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The modules loaded once the app has drawn its first frame (a fresh interpreter)."""
    folder = tmp_path_factory.mktemp("first-frame")
    result = subprocess.run([sys.executable, "-c", PROBE, str(folder / "chats.db")],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=folder,
                            capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert "tui.ui.screens.main" in loaded  # the probe did start the app
    return loaded


def test_the_first_frame_imports_no_dialog_picker_or_panel(first_frame_modules: set[str]):
    assert first_frame_modules & ON_DEMAND == set()
    assert "zipfile" not in first_frame_modules


def test_the_first_frame_draws_no_markdown(first_frame_modules: set[str]):
    """A new chat shows no reply: markdown-it and Pygments (~40 ms of imports) load in a
    thread once the screen is up (markdown_blocks.warm_rendering), or when a reply is drawn
    first, whichever comes first."""
    packages = {name.split(".")[0] for name in first_frame_modules}
    assert packages & {"markdown_it", "pygments", "linkify_it", "mdurl"} == set()
