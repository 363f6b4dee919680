"""Keys typed while the app starts (tui/ui/screens/main.py, ``MainScreen.on_key``)."""

from __future__ import annotations

from tests.terminal.harness import ENTER


def test_what_is_typed_while_the_app_starts_is_kept_and_sent(launch):
    """A user who types right after launching: the keys arrive before any widget has focus
    (Textual gave them to the screen, which dropped them); now the composer gets them, in
    order, Enter included, and the message goes to the chat the app opens."""
    term = launch(size=(100, 30))
    term.send("typed at once")  # no wait: the app is still starting
    term.send(ENTER)
    term.wait_for("You said: typed at once")
