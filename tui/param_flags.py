"""argparse types for the request-parameter flags that ``ask`` and ``personas create`` share:
a params check's reason becomes the usage error, in one place."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tui.core.params import ParamError, parse_optional_number, parse_param_pair


def typed(check: Callable[[Any], Any], name: str) -> Callable[[str], Any]:
    """An argparse type from a params check (``none`` clears the value)."""
    def parse(text: str) -> Any:
        try:
            return parse_optional_number(text, check, name)
        except ParamError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return parse


def pair(text: str, *, removable: bool = False) -> tuple[str, Any]:
    """``NAME=VALUE`` for a server's own parameter; with ``removable``, ``NAME=`` (no value)
    gives ``(NAME, None)``: remove it."""
    name, sep, value = text.partition("=")
    try:
        if removable and sep and not value.strip():
            return parse_param_pair(f"{name}=0")[0], None
        return parse_param_pair(text)
    except ParamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def removable_pair(text: str) -> tuple[str, Any]:
    return pair(text, removable=True)
