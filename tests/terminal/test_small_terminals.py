"""Issue 9, part 2 item 5: small terminals.

* Started at 80x24 with no key and no server, the first-run panel is fully visible, its
  title first (a new user's first screen).
* Resized to 60x20 (new winsize, then SIGWINCH, as a terminal does), messages keep at least
  50 columns: the sidebar gets out of the way.
"""

from __future__ import annotations

import re

from tests.terminal.harness import plain
from tests.test_app_support import seed_conversation
from tui.core.store import Store
from tui.ui.widgets.setup_panel import DETAILS, INTRO, TITLE

WIDE_WORD = "y" * 300  # folds at exactly the width the message gets
MIN_MESSAGE_COLUMNS = 50


def test_first_run_panel_is_fully_visible_at_80x24(launch):
    term = launch(size=(80, 24), server=False)
    parts = (TITLE, INTRO, "API key", "Base URL", "Save and connect", DETAILS)
    # Every word of it on screen, none cut off or scrolled away.
    screen = term.wait_until(lambda text: all(plain(part) in plain(text) for part in parts),
                             what="the whole first-run panel")
    starts = [term.find(" ".join(part.split()[:3])) for part in parts]
    assert all(starts), screen
    rows = [y for y, _ in starts]
    assert rows == sorted(rows) and rows[0] < rows[1], \
        f"not title first, then the rest in order:\n{screen}"


def message_columns(screen: str) -> int:
    """The widest run of the folded word: the columns a message gets."""
    return max((len(run) for run in re.findall(r"y+", screen)), default=0)


def test_messages_keep_50_columns_after_a_resize_to_60x20(launch, db_path):
    with Store(db_path) as store:
        seed_conversation(store, "Wide words", updated="2026-03-01T09:00:00.000Z",
                          text=lambda i: ("a question", WIDE_WORD))
    term = launch(size=(80, 24))
    term.wait_until(lambda screen: message_columns(screen) > 0, what="the message")
    term.resize(60, 20)
    term.wait_until(lambda screen: message_columns(screen) >= MIN_MESSAGE_COLUMNS,
                    what=f"messages {MIN_MESSAGE_COLUMNS} columns wide at 60x20")
