"""Snapshot tests: the main screen, the empty first-run screen and the help screen.

Deterministic by construction: fixed DB content with fixed `updated` times, relative times
computed against a fixed "now", token counts left as estimates (no encoding loaded), a fixed
terminal size and no cursor blink.
"""

from __future__ import annotations

from tests.test_app_support import make_app, make_services, seed_conversation, wait_until
from tui.ui.widgets.composer import Composer

SNAPSHOT_SIZE = (100, 30)
CODE_REPLY = """Use a **list comprehension**:

```python
squares = [n * n for n in range(10)]
```

- short
- readable"""


def seeded_services(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    store = services.store
    seed_conversation(store, "Weekend hiking plan", updated="2026-03-02T09:00:00.000Z")
    seed_conversation(store, "[bold]Literal title", updated="2026-02-20T09:00:00.000Z")
    seed_conversation(store, "Pinned reference", updated="2026-01-05T09:00:00.000Z",
                      pinned=True)
    seed_conversation(store, "Python squares", updated="2026-03-02T11:58:00.000Z",
                      text=lambda i: ("How do I square numbers 0-9 in Python?", CODE_REPLY))
    return services


async def _no_blink(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.main.is_mounted and pilot.app.main.query(Composer))
    pilot.app.main.composer.cursor_blink = False
    await pilot.pause()


def test_main_screen(snap_compare, tmp_path):
    services = seeded_services(tmp_path)
    try:
        assert snap_compare(make_app(services), terminal_size=SNAPSHOT_SIZE,
                            run_before=_no_blink)
    finally:
        services.close()


def test_first_run_screen(snap_compare, tmp_path):
    services = make_services(tmp_path, None)
    try:
        assert snap_compare(make_app(services), terminal_size=SNAPSHOT_SIZE,
                            run_before=_no_blink)
    finally:
        services.close()


def test_help_screen(snap_compare, tmp_path):
    services = seeded_services(tmp_path)

    async def open_help(pilot) -> None:
        await _no_blink(pilot)
        await pilot.press("f1")
        await pilot.pause()

    try:
        assert snap_compare(make_app(services), terminal_size=(100, 50), run_before=open_help)
    finally:
        services.close()
