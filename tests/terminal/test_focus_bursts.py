"""Issue 9, part 2 item 3: keys in the same burst as a focus-changing shortcut are not lost.

A terminal delivers what is typed quickly (or pasted, or sent by tmux's send-keys) as one
write: the shortcut's byte and the text after it arrive together. The text must land, whole,
in the widget the shortcut focuses: not in the previous one, not dropped.

Each step first puts the focus somewhere known the slow way (the shortcut alone, then one
key whose echo shows where the focus is), then sends the burst, and waits for the burst's
last key to show up: keys are handled in order, so by then the whole burst was.
"""

from __future__ import annotations

from tests.terminal.harness import CTRL_F, CTRL_L, CTRL_T, field_at
from tests.test_app_support import seed_conversation
from tui.core.store import Store

SIZE = (120, 30)  # wide enough that the sidebar is docked, not an overlay
SEARCH_PLACEHOLDER = "Search (ctrl+f)"
COMPOSER_PLACEHOLDER = "Message…"


def test_keys_after_a_focus_shortcut_land_in_the_focused_widget(launch, db_path):
    with Store(db_path) as store:
        seed_conversation(store, "Zoo trip", updated="2026-03-01T09:00:00.000Z",
                          text=lambda i: ("where is the zebra enclosure", "by the gate"))
    term = launch(size=SIZE)
    term.wait_until(lambda text: COMPOSER_PLACEHOLDER in text and SEARCH_PLACEHOLDER in text,
                    what="the composer and the search box")
    search_y, search_x = term.find(SEARCH_PLACEHOLDER)
    composer_y, composer_x = term.find(COMPOSER_PLACEHOLDER)

    def shown(y: int, x: int, placeholder: str) -> str:
        text = field_at(term.rows()[y], x)
        return "" if text.startswith(placeholder) else text

    def fields() -> tuple[str, str]:
        return (shown(search_y, search_x, SEARCH_PLACEHOLDER),
                shown(composer_y, composer_x, COMPOSER_PLACEHOLDER))

    def burst(data: bytes, last: str) -> tuple[str, str]:
        term.send(data)
        term.wait_until(lambda _: any(f.endswith(last) for f in fields()),
                        what=f"the burst {data!r} to be handled")
        return fields()

    def focus_slowly(shortcut: bytes, probe: str, where: int) -> None:
        term.send(shortcut)
        term.send(probe)
        term.wait_until(lambda _: fields()[where].endswith(probe),
                        what=f"{probe!r} to show the focus")

    failures = []
    # 1. Composer focused (start-up), then Ctrl+F and the query in one write.
    search, composer = burst(CTRL_F + b"zebra", "a")
    if not (search == "zebra" and "zebra" not in composer):
        failures.append(f"ctrl+f: search box {search!r}, composer {composer!r}")

    # 2. Search box focused, then Ctrl+T and text in one write.
    focus_slowly(CTRL_F, "q", 0)
    search, composer = burst(CTRL_T + b"hello", "o")
    if not (composer.endswith("hello") and "hello" not in search):
        failures.append(f"ctrl+t: search box {search!r}, composer {composer!r}")

    # 3. Composer focused, then Ctrl+L (the list) and `/` (search from the list) and text.
    focus_slowly(CTRL_T, ".", 1)
    search, composer = burst(CTRL_L + b"/yak", "k")
    if not (search.endswith("yak") and not composer.endswith(("yak", "/"))):
        failures.append(f"ctrl+l then /: search box {search!r}, composer {composer!r}")
    assert not failures, "keys lost after a focus shortcut:\n" + "\n".join(failures)
