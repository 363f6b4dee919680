"""The arguments of one Chat Completions request, as the model and the server will take them.

Reasoning models (o1/o3/o4-mini/gpt-5*) take ``max_completion_tokens`` and refuse
temperature/top_p; other servers refuse other parameters, which the client learns from their
400s (:class:`RefusedParams`) and stops sending, or sends under the name they accept. The
chat's own settings and their validation live in :mod:`tui.core.params`; this module only
turns them into the SDK's keyword arguments. No SDK import: plain dicts.
"""

from __future__ import annotations

import re
from typing import Any

from tui.core.client_records import RequestParams

# Parameters a model refused in a single request before we stop adapting and report it.
MAX_PARAM_FIXES = 3

_REASONING = re.compile(r"^(o\d+|gpt-5)(?![\w.]*-chat)([-.:_]|$)")
# A refused output limit is sent under the other name, which the server may take.
_SWAPS = {"max_tokens": "max_completion_tokens", "max_completion_tokens": "max_tokens"}


def is_reasoning_model(model: str) -> bool:
    """o1/o3/o4-mini/gpt-5* (also behind a provider prefix like ``openai/o3``).

    These take ``max_completion_tokens`` and refuse temperature/top_p. ``gpt-5-chat`` is a
    chat model and is not one.
    """
    name = model.rsplit("/", 1)[-1].lower()
    return bool(_REASONING.match(name))


def request_kwargs(model: str, messages: list[dict[str, str]], params: RequestParams, *,
                   stream: bool) -> dict[str, Any]:
    """The request's arguments for ``params`` (the SDK's ``create`` names, the server's own
    parameters in ``extra_body``), before any learned refusal applies; sent as
    :func:`request_body`."""
    kwargs: dict[str, Any] = {"model": model, "messages": messages}
    reasoning = is_reasoning_model(model)
    if not reasoning:
        if params.temperature is not None:
            kwargs["temperature"] = params.temperature
        if params.top_p is not None:
            kwargs["top_p"] = params.top_p
    if params.max_output_tokens is not None:
        name = "max_completion_tokens" if reasoning else "max_tokens"
        kwargs[name] = params.max_output_tokens
    if params.json_output:
        kwargs["response_format"] = {"type": "json_object"}
    if stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    if params.extra:
        # Not SDK arguments: they go into the JSON body as given.
        kwargs["extra_body"] = dict(params.extra)
    return kwargs


def request_body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body ``kwargs`` stand for: the extra parameters merged in over the named
    ones, as the SDK merges ``extra_body``."""
    body = {name: value for name, value in kwargs.items() if name != "extra_body"}
    body.update(kwargs.get("extra_body") or {})
    return body


class RefusedParams:
    """What one server refused, per model: learned once, applied to every later request."""

    def __init__(self) -> None:
        # model -> {refused parameter: the one to send instead, or None to drop it}
        self._fixes: dict[str, dict[str, str | None]] = {}

    def learn(self, model: str, param: str) -> None:
        """Remember not to send ``param`` for ``model`` (or what to send instead)."""
        self._fixes.setdefault(model, {})[param] = _SWAPS.get(param)

    def apply(self, model: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` without what ``model`` refused, renamed where another name may pass."""
        fixes = self._fixes.get(model, {})
        for param, instead in fixes.items():
            if param in kwargs:
                value = kwargs.pop(param)
                if instead is not None and instead not in fixes:
                    kwargs[instead] = value
        return kwargs

    def of(self, model: str) -> set[str]:
        """The parameters learned to be refused for ``model``."""
        return set(self._fixes.get(model, {}))
