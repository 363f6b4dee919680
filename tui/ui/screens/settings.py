"""The chat settings form (F7): every request parameter of one chat, or of a persona.

Model, system prompt, temperature, top_p, max output tokens, context strategy and window,
JSON output, and a small table of a server's own parameters (top_k, min_p...). Empty number
fields mean "the server's default". Save checks every field with the core's own checks
(tui.core.params): a value it refuses stays in the form, its field marked, the reason shown
under the form, and nothing is saved. The same form edits a persona, with a name field.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from tui.ui.screens.dialog_base import Dialog
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, TextArea

from tui.core.models import Strategy
from tui.core.params import (
    ParamError,
    check_max_tokens,
    check_model,
    check_param_name,
    check_param_value,
    check_temperature,
    check_top_p,
    format_param_value,
    parse_optional_number,
    parse_param_value,
)
from tui.core.windows import parse_window_size
from tui.ui import keys
from tui.ui.widgets.literal import literal
from tui.ui.widgets.safe_fields import SafeInput, SafeTextArea

# Empty rows offered for new extra parameters (more with "Add parameter").
SPARE_ROWS = 1


@dataclass(frozen=True)
class SettingsResult:
    """What Save returns: the checked settings (tui.core.params.CHAT_SETTINGS) and, when
    editing a persona, its name."""

    values: dict[str, Any]
    name: str | None = None


class FieldError(Exception):
    def __init__(self, field_id: str, reason: str) -> None:
        super().__init__(reason)
        self.field_id = field_id


class ParamRow(Horizontal):
    """One extra parameter: a name and a value."""

    def __init__(self, index: int, name: str = "", value: str = "") -> None:
        super().__init__(classes="param-row")
        self._index = index
        self._name, self._value = name, value

    def compose(self) -> ComposeResult:
        # Ids, so a refusal can point at the very field.
        yield SafeInput(self._name, placeholder="name (e.g. top_k)", classes="param-name",
                        id=f"param-name-{self._index}", compact=True)
        yield SafeInput(self._value, placeholder="value (40, 0.05, true, text)",
                        classes="param-value", id=f"param-value-{self._index}", compact=True)


def _number_text(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


class SettingsScreen(Dialog[SettingsResult | None]):
    """Dismisses with a SettingsResult, or None when cancelled."""

    BINDINGS = keys.SETTINGS

    def __init__(self, values: dict[str, Any], *, title: str, name: str | None = None,
                 model_optional: bool = False) -> None:
        """``name`` (a persona's; "" for a new one) adds a name field. ``model_optional``:
        an empty model is allowed (a persona's "the session's model")."""
        super().__init__(classes="dialog-screen")
        self._values = values
        self._title = title
        self._name = name
        self._model_optional = model_optional
        self._rows = itertools.count()

    def compose(self) -> ComposeResult:
        v = self._values
        with Vertical(classes="dialog dialog-wide", id="settings-dialog"):
            yield Label(literal(self._title), classes="dialog-title")
            with VerticalScroll(id="settings-form"):
                if self._name is not None:
                    yield from self._row("Name", SafeInput(self._name, id="set-name",
                                                           compact=True))
                yield from self._row("Model", SafeInput(
                    v.get("model") or "", id="set-model", compact=True,
                    placeholder="the session's model" if self._model_optional else ""))
                yield from self._row("System prompt", SafeTextArea(
                    v.get("system_prompt") or "", id="set-system", soft_wrap=True,
                    tab_behavior="focus", compact=True))
                yield from self._row("Temperature", Input(
                    _number_text(v.get("temperature")), id="set-temperature", compact=True,
                    placeholder="server default (0 to 2)"))
                yield from self._row("Top p", Input(
                    _number_text(v.get("top_p")), id="set-top-p", compact=True,
                    placeholder="server default (0 to 1)"))
                yield from self._row("Max output tokens", Input(
                    _number_text(v.get("max_output_tokens")), id="set-max-tokens",
                    compact=True, placeholder="server default"))
                yield from self._row("Context strategy", Select(
                    [(s.value, s.value) for s in Strategy], id="set-strategy",
                    value=Strategy(v.get("strategy") or Strategy.SUMMARIZE).value,
                    allow_blank=False, compact=True))
                yield from self._row("Context window", Input(
                    _number_text(v.get("context_window")), id="set-window", compact=True,
                    placeholder="the model's (or e.g. 8k, 32768)"))
                yield from self._row("JSON output", Checkbox(
                    "ask for a JSON object (response_format)", bool(v.get("json_output")),
                    id="set-json", compact=True))
                with Horizontal(classes="settings-row"):
                    yield Label("Extra parameters", classes="settings-label")
                    with Vertical(id="set-params"):
                        for name, value in (v.get("extra_params") or {}).items():
                            yield ParamRow(next(self._rows), name, format_param_value(value))
                        for _ in range(SPARE_ROWS):
                            yield ParamRow(next(self._rows))
                        yield Button("Add parameter", id="set-add-param", compact=True)
            yield Label("", id="settings-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="settings-save")
                yield Button("Cancel", id="settings-cancel")

    @staticmethod
    def _row(label: str, field: Widget) -> ComposeResult:
        with Horizontal(classes="settings-row"):
            yield Label(label, classes="settings-label")
            yield field

    def on_mount(self) -> None:
        self.query_one("#set-name" if self._name is not None else "#set-model").focus()

    # -- reading the form -------------------------------------------------------------------

    def _text(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def _number(self, field_id: str, check: Any, name: str) -> Any:
        try:
            return parse_optional_number(self._text(field_id), check, name)
        except ParamError as error:
            raise FieldError(field_id, str(error)) from None

    def read_form(self) -> SettingsResult:
        """The form's values, checked; FieldError names the first bad field and why."""
        values: dict[str, Any] = {}
        name = None
        if self._name is not None:
            name = " ".join(self._text("set-name").split())
            if not name:
                raise FieldError("set-name", "a persona needs a name")
        model = self._text("set-model").strip()
        if model or not self._model_optional:
            try:
                values["model"] = check_model(model)
            except ParamError as error:
                raise FieldError("set-model", str(error)) from None
        else:
            values["model"] = ""
        values["system_prompt"] = self.query_one("#set-system", TextArea).text.strip()
        values["temperature"] = self._number("set-temperature", check_temperature,
                                             "temperature")
        values["top_p"] = self._number("set-top-p", check_top_p, "top_p")
        values["max_output_tokens"] = self._number("set-max-tokens", check_max_tokens,
                                                   "max tokens")
        values["strategy"] = Strategy(self.query_one("#set-strategy", Select).value)
        window_text = self._text("set-window").strip()
        window = parse_window_size(window_text) if window_text else None
        if window_text and window is None:
            raise FieldError("set-window", f"context window must be a positive number of "
                                           f"tokens (8192, or 8k), not {window_text!r}")
        values["context_window"] = window
        values["json_output"] = self.query_one("#set-json", Checkbox).value
        values["extra_params"] = self._read_params()
        return SettingsResult(values, name)

    def _read_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for row in self.query(ParamRow):
            name_input = row.query_one(".param-name", Input)
            value_input = row.query_one(".param-value", Input)
            if not name_input.value.strip() and not value_input.value.strip():
                continue
            try:
                key = check_param_name(name_input.value)
            except ParamError as error:
                raise FieldError(name_input.id or "", str(error)) from None
            if key in params:
                raise FieldError(name_input.id or "", f"extra parameter {key!r} is given twice")
            try:
                params[key] = check_param_value(key, parse_param_value(value_input.value))
            except ParamError as error:
                raise FieldError(value_input.id or "", str(error)) from None
        return params

    # -- actions ----------------------------------------------------------------------------

    def action_save(self) -> None:
        for widget in self.query(".-refused"):
            widget.remove_class("-refused")
        try:
            result = self.read_form()
        except FieldError as error:
            self.query_one("#settings-error", Label).update(literal(str(error)))
            if error.field_id:
                field = self.query_one(f"#{error.field_id}")
                field.add_class("-refused")
                field.focus()
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#settings-save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#settings-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    @on(Button.Pressed, "#set-add-param")
    async def _add_param(self, event: Button.Pressed) -> None:
        event.stop()
        row = ParamRow(next(self._rows))
        await self.query_one("#set-params").mount(row, before=event.button)
        row.query_one(".param-name", Input).focus()

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        event.input.remove_class("-refused")
