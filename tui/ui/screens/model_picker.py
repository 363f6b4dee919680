"""Pick the conversation's model from the server's list, or type one.

The list comes from ChatClient.list_models() through the loader the app passes in; servers
that can't list models (or are unreachable) leave the filter box as a free-text field.
The "default" switch (ctrl+d) makes the pick the default for new chats too (config file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from tui.ui.screens.dialog_base import Dialog
from textual.widgets import Checkbox, Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.ui import keys
from tui.ui.widgets.literal import literal, one_line
from tui.ui.widgets.safe_fields import SafeInput

log = logging.getLogger(__name__)

ModelLoader = Callable[[], Awaitable[list[str]]]


def model_count_text(shown: int, listed: int, typed: str) -> str:
    """What the picker says of the list as it is filtered: what Enter will pick."""
    plural = "" if listed == 1 else "s"
    if not typed:
        return f"{listed} model{plural} — Enter picks the highlighted one"
    if not shown:
        return f"None of the {listed} model{plural} match — Enter uses {typed!r} as the name"
    return f"{shown} of {listed} model{plural} match — Enter picks the highlighted one"


@dataclass(frozen=True)
class ModelChoice:
    model: str
    # Also the default for new chats, in this session and later ones.
    make_default: bool = False


class ModelPickerScreen(Dialog[ModelChoice | None]):
    BINDINGS = keys.MODEL_PICKER

    def __init__(self, current: str, loader: ModelLoader) -> None:
        super().__init__(classes="dialog-screen")
        self._current = current
        self._loader = loader
        self._models: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label(Content.assemble("Model (now ", (one_line(self._current), "bold"), ")"),
                        classes="dialog-title")
            yield SafeInput(placeholder="Filter, or type a model name and press Enter",
                        id="model-filter")
            yield Label("Loading models…", id="model-status")
            yield OptionList(id="model-list")
            yield Checkbox("Also the default for new chats (ctrl+d)", id="model-default",
                           compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._load()

    @work(exclusive=True, group="models")
    async def _load(self) -> None:
        status = self.query_one("#model-status", Label)
        try:
            models = await self._loader()
        except Exception as error:  # any client error: fall back to free text
            log.exception("could not list the models")
            status.update(literal(f"Couldn't list models ({error}). "
                                  "Type a model name and press Enter."))
            return
        self._models = sorted(models)
        if not models:
            status.update("The server listed no models. Type a model name and press Enter.")
        self._refilter(self.query_one(Input).value)

    def _refilter(self, text: str) -> None:
        needle = text.strip().lower()
        shown = [m for m in self._models if needle in m.lower()]
        options = self.query_one(OptionList)
        options.set_options(Option(literal(m), id=m) for m in shown)
        if shown:
            options.highlighted = shown.index(self._current) if self._current in shown else 0
        if self._models:
            self.query_one("#model-status", Label).update(literal(model_count_text(
                len(shown), len(self._models), text.strip())))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refilter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: the highlighted match, else the typed text as a model name."""
        event.stop()
        options = self.query_one(OptionList)
        typed = event.value.strip()
        option = options.highlighted_option
        if option is not None and option.id and (not typed or typed.lower() in option.id.lower()):
            self._pick(option.id)
        elif typed:
            self._pick(typed)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._pick(event.option.id)

    def _pick(self, model: str) -> None:
        self.dismiss(ModelChoice(model, self.query_one("#model-default", Checkbox).value))

    def action_toggle_default(self) -> None:
        self.query_one("#model-default", Checkbox).toggle()

    def action_focus_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
