"""First-run panel: no API key and no server configured.

Existing chats stay browsable; this panel explains the two ways to get going and takes a
pasted key (masked: it is never shown in full) or a local server's URL. The app saves and
applies them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message as TextualMessage
from textual.widgets import Button, Input, Label, Static

HELP_TEXT = """\
No API key or server is configured yet.

• OpenAI: set OPENAI_API_KEY in your shell, or paste a key below (saved, mode 0600, \
in the config file).
• A local server: set OPENAI_BASE_URL, e.g. http://localhost:11434/v1 (Ollama), \
http://localhost:8080/v1 (llama.cpp), http://localhost:8000/v1 (vLLM), \
http://localhost:1234/v1 (LM Studio) — or enter it below."""


def looks_like_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


class SetupPanel(Vertical):
    class Saved(TextualMessage):
        def __init__(self, api_key: str | None, base_url: str | None) -> None:
            super().__init__()
            self.api_key = api_key
            self.base_url = base_url

    def compose(self) -> ComposeResult:
        yield Label("Set up gpt-tui", classes="setup-title")
        yield Static(HELP_TEXT, classes="setup-help", markup=False)
        with Horizontal(classes="setup-row"):
            yield Label("API key ", classes="setup-label")
            yield Input(password=True, placeholder="sk-…", id="setup-key", compact=True)
        with Horizontal(classes="setup-row"):
            yield Label("Base URL", classes="setup-label")
            yield Input(placeholder="optional, e.g. http://localhost:11434/v1", id="setup-url",
                        compact=True)
        yield Button("Save and connect", variant="primary", id="setup-save", compact=True)

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
