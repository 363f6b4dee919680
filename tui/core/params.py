"""A chat's request settings: what they are, which values are valid, and how they are sent.

One definition serves every way a user sets them (the config file's defaults, ``gpt-tui
ask`` flags, personas, the app's settings form), so each refuses the same values with the
same reason. ``CHAT_SETTINGS`` names the fields a conversation, a new chat and a persona
share. Nothing here imports the client: the config and the listing commands use it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from tui.core.models import ParamValue, Strategy

# The settings a conversation, a new chat (session.NewConversation) and a persona share.
CHAT_SETTINGS = ("model", "system_prompt", "strategy", "temperature", "top_p",
                 "max_output_tokens", "context_window", "json_output", "extra_params")

# Request fields the client sets itself: an extra parameter may not replace them.
RESERVED_PARAMS = frozenset({
    "model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens",
    "max_completion_tokens", "response_format", "n", "tools", "tool_choice", "functions",
    "function_call",
})
MAX_EXTRA_PARAMS = 32
MAX_PARAM_NAME = 64


class ParamError(ValueError):
    """A value a setting cannot take; str(e) is the one-line reason, naming the setting."""


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{name} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ParamError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def check_temperature(value: Any) -> float | None:
    """None (the server decides) or a number from 0 to 2."""
    if value is None:
        return None
    number = _number(value, "temperature")
    if not 0 <= number <= 2:
        raise ParamError(f"temperature must be between 0 and 2, not {value!r}")
    return number


def check_top_p(value: Any) -> float | None:
    """None or a number from 0 to 1 (the share of probability mass sampled from)."""
    if value is None:
        return None
    number = _number(value, "top_p")
    if not 0 <= number <= 1:
        raise ParamError(f"top_p must be between 0 and 1, not {value!r}")
    return number


def _positive_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParamError(f"{name} must be a positive whole number of tokens, not {value!r}")
    return value


def check_max_tokens(value: Any) -> int | None:
    return _positive_int(value, "max tokens")


def check_context_window(value: Any) -> int | None:
    return _positive_int(value, "context window")


def check_param_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ParamError("an extra parameter needs a name")
    name = name.strip()
    if len(name) > MAX_PARAM_NAME or any(c.isspace() or not c.isprintable() for c in name):
        raise ParamError(f"extra parameter name {name!r} must be one word of at most "
                         f"{MAX_PARAM_NAME} characters")
    if name in RESERVED_PARAMS:
        raise ParamError(f"extra parameter {name!r} clashes with a field gpt-tui sets itself; "
                         f"use its own setting")
    return name


def check_param_value(name: str, value: Any) -> ParamValue:
    """A JSON scalar: a string, a finite number or true/false (null and lists are refused)."""
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"extra parameter {name!r} must be a finite number")
        return value
    raise ParamError(f"extra parameter {name!r} must be a string, a number or true/false, "
                     f"not {value!r}")


def check_extra_params(values: Any) -> dict[str, ParamValue]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ParamError(f"extra parameters must be a table of name = value, not {values!r}")
    if len(values) > MAX_EXTRA_PARAMS:
        raise ParamError(f"at most {MAX_EXTRA_PARAMS} extra parameters")
    checked: dict[str, ParamValue] = {}
    for name, value in values.items():
        key = check_param_name(name)
        checked[key] = check_param_value(key, value)
    return checked


def check_model(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParamError("the model name is empty")
    if any(not c.isprintable() for c in value):
        raise ParamError("the model name has control characters")
    return value.strip()


def check_system_prompt(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParamError(f"the system prompt must be text, not {value!r}")
    return value


def check_strategy(value: Any) -> Strategy:
    try:
        return Strategy(value)
    except ValueError:
        choices = ", ".join(s.value for s in Strategy)
        raise ParamError(f"strategy must be one of {choices}, not {value!r}") from None


def check_json_output(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"JSON output must be true or false, not {value!r}")
    return value


CHECKS = {
    "model": check_model, "system_prompt": check_system_prompt, "strategy": check_strategy,
    "temperature": check_temperature, "top_p": check_top_p,
    "max_output_tokens": check_max_tokens, "context_window": check_context_window,
    "json_output": check_json_output, "extra_params": check_extra_params,
}


def check_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Each of CHAT_SETTINGS in ``values`` checked (ParamError on the first bad one)."""
    unknown = sorted(set(values) - set(CHECKS))
    if unknown:
        raise ParamError(f"unknown setting(s): {', '.join(unknown)}")
    return {name: CHECKS[name](value) for name, value in values.items()}


# -- text as typed (forms, command-line flags) --------------------------------------------

def parse_optional_number(text: str, check: Any, name: str) -> Any:
    """"" -> None (let the server decide); else the number, checked."""
    text = text.strip()
    if not text:
        return None
    try:
        number: float | int = int(text) if text.lstrip("+-").isdigit() else float(text)
    except ValueError:
        raise ParamError(f"{name} must be a number, not {text!r}") from None
    return check(number)


def parse_param_value(text: str) -> ParamValue:
    """What a user types as a value: JSON scalars (40, 0.05, true, "x") or a bare word."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if value is None or isinstance(value, (list, dict)):
        raise ParamError(f"extra parameter values must be a string, a number or true/false, "
                         f"not {text}")
    return value


def parse_param_pair(text: str) -> tuple[str, ParamValue]:
    """``top_k=40`` -> ("top_k", 40)."""
    name, sep, value = text.partition("=")
    if not sep:
        raise ParamError(f"expected NAME=VALUE, not {text!r}")
    key = check_param_name(name)
    return key, check_param_value(key, parse_param_value(value))


def format_param_value(value: ParamValue) -> str:
    """The inverse of parse_param_value, for showing a value in a form or a listing."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
        return json.dumps(value)  # "40" as a string stays a string when read back
    return json.dumps(value)
