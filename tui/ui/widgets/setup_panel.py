"""First-run panel: no API key and no server configured.

Existing chats stay browsable; this panel says what is missing and takes a pasted key
(masked: it is never shown in full) or a local server's URL. The app saves and applies them.

It is a new user's first screen, often in an 80x24 terminal, so it stays short: the title,
one line on what is missing, the two fields right away (the focus lands on the key field, and
nothing above it may scroll away), then the details. The README lists every server.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message as TextualMessage
from textual.widgets import Button, Input, Label, Static

TITLE = "Set up gpt-tui"
INTRO = "No API key or server is configured yet."
DETAILS = ("A key is saved with mode 0600 in the config file. OPENAI_API_KEY and "
           "OPENAI_BASE_URL work too.")
URL_EXAMPLE = "e.g. http://localhost:11434/v1"
# Everything the panel explains, in reading order (tests check it is all on screen).
HELP_TEXT = f"{INTRO}\n{DETAILS}"


def looks_like_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


class SetupPanel(Vertical):
    class Saved(TextualMessage):
        def __init__(self, api_key: str | None, base_url: str | None) -> None:
            super().__init__()
            self.api_key = api_key
            self.base_url = base_url

    def compose(self) -> ComposeResult:
        yield Label(TITLE, classes="setup-title")
        yield Static(INTRO, classes="setup-help", markup=False)
        with Horizontal(classes="setup-row"):
            yield Label("API key ", classes="setup-label")
            yield Input(password=True, placeholder="sk-…", id="setup-key", compact=True)
        with Horizontal(classes="setup-row"):
            yield Label("Base URL", classes="setup-label")
            yield Input(placeholder=URL_EXAMPLE, id="setup-url", compact=True)
        yield Button("Save and connect", variant="primary", id="setup-save", compact=True)
        yield Static(DETAILS, classes="setup-help", markup=False)

    def _submit(self) -> None:
        key_input = self.query_one("#setup-key", Input)
        url_input = self.query_one("#setup-url", Input)
        key = key_input.value.strip() or None
        url = url_input.value.strip() or None
        if key and looks_like_url(key):
            # A server URL typed into the key field: never save it as a secret.
            if url is None:
                key, url = None, key
                key_input.value, url_input.value = "", url
            else:
                self.app.notify("The API key field holds a URL; clear it or paste a key.",
                                severity="warning")
                key_input.focus()
                return
        if key is None and url is None:
            self.app.notify("Paste an API key or enter a server URL first.", severity="warning")
            return
        if url is not None and not looks_like_url(url):
            self.app.notify("The base URL must start with http:// or https://, "
                            "e.g. http://localhost:11434/v1", severity="warning")
            url_input.focus()
            return
        if key is not None and any(ch.isspace() for ch in key):
            self.app.notify("An API key has no spaces; paste it again.", severity="warning")
            key_input.focus()
            return
        self.post_message(self.Saved(key, url))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._submit()
