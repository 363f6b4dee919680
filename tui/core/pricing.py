"""Estimated cost: a small price table, overridable in the config, and nothing invented.

Prices are US dollars per million tokens: ``input`` (prompt), ``cached`` (prompt tokens the
server served from its cache; the input price when not given) and ``output``. A model with no
price shows no cost at all ("unknown"), never $0: only a price of 0 says a model or a server
is free.

Where a price comes from, first match wins:

1. the config's ``[prices]`` entry for the model name (on any server);
2. the config's entry for the server (a key with ``://``, e.g. ``"http://localhost:11434/v1"
   = 0`` for a local server: every model on it is free);
3. the built-in table below, only on OpenAI's own API (a model of the same name behind
   another server has that server's prices, not OpenAI's). A dated snapshot
   (``gpt-4o-2024-08-06``) takes its family's price.

The built-in figures are OpenAI's list prices for standard processing as published in 2025;
they change, so override them in the config when they do (the README shows how).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui.core.hosts import is_openai_host, sanitize_url

PER = 1_000_000


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens."""

    input: float
    output: float
    cached: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int,
             cached_tokens: int | None = None) -> float:
        cached = min(max(cached_tokens or 0, 0), prompt_tokens)
        cached_price = self.input if self.cached is None else self.cached
        return ((prompt_tokens - cached) * self.input + cached * cached_price
                + completion_tokens * self.output) / PER


FREE = Price(0.0, 0.0, 0.0)

BUILT_IN: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "o3": Price(2.00, 8.00, 0.50),
    "o3-mini": Price(1.10, 4.40, 0.55),
    "o4-mini": Price(1.10, 4.40, 0.275),
    "gpt-5": Price(1.25, 10.00, 0.125),
    "gpt-5-mini": Price(0.25, 2.00, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
}


class PriceError(ValueError):
    """A bad ``[prices]`` entry; str(e) says which and why."""


def _dollars(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise PriceError(f"{where} must be a number of dollars per million tokens (0 or more), "
                         f"not {value!r}")
    return float(value)


def parse_price(value: Any, where: str) -> Price:
    """``0`` (free), or a table ``{ input = 2.5, output = 10, cached = 1.25 }``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if _dollars(value, where) != 0:
            raise PriceError(f"{where}: a single number may only be 0 (free); give "
                             f"{{ input = ..., output = ... }} per million tokens")
        return FREE
    if not isinstance(value, Mapping):
        raise PriceError(f"{where} must be 0 or a table {{ input = ..., output = ... }}, "
                         f"not {value!r}")
    unknown = sorted(set(value) - {"input", "output", "cached"})
    if unknown:
        raise PriceError(f"{where}: unknown field(s) {', '.join(unknown)} "
                         f"(known: input, output, cached)")
    missing = [name for name in ("input", "output") if name not in value]
    if missing:
        raise PriceError(f"{where} needs {' and '.join(missing)}")
    cached = value.get("cached")
    return Price(_dollars(value["input"], f"{where}.input"),
                 _dollars(value["output"], f"{where}.output"),
                 None if cached is None else _dollars(cached, f"{where}.cached"))


def parse_prices(table: Mapping[str, Any], where: str) -> dict[str, Price]:
    prices = {}
    for key, value in table.items():
        name = sanitize_url(key) if "://" in key else key
        prices[name] = parse_price(value, f"{where}.{key}")
    return prices


def _built_in(model: str) -> Price | None:
    name = model.rsplit("/", 1)[-1].lower()
    if name in BUILT_IN:
        return BUILT_IN[name]
    # A dated snapshot: the longest family name it extends ("gpt-4o-mini-2024-07-18").
    families = [family for family in BUILT_IN if name.startswith(family + "-")
                and name[len(family) + 1:][:1].isdigit()]
    return BUILT_IN[max(families, key=len)] if families else None


def price_for(model: str, base_url: str | None,
              overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``model`` on the server at ``base_url`` (None: unknown).

    ``base_url`` None means the server is not known (a reply stored before servers were
    recorded): only a price the config gives the model applies.
    """
    overrides = overrides or {}
    if model in overrides:
        return overrides[model]
    if not base_url:
        return None
    server = sanitize_url(base_url)
    if server in overrides:
        return overrides[server]
    if is_openai_host(base_url):
        return _built_in(model)
    return None


def format_cost(dollars: float | None) -> str:
    """"$0.0123", "$1.50", "$0" (free); "unknown" when there is no price."""
    if dollars is None:
        return "unknown"
    if dollars == 0:
        return "$0"
    if dollars < 0.0001:
        return "<$0.0001"
    if dollars < 0.01:
        return f"${dollars:.4f}"
    if dollars < 100:
        return f"${dollars:.2f}"
    return f"${dollars:,.0f}"
