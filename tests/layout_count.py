"""Counting the screen layouts a change causes (tests of one_layout's single pass)."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


class LayoutCounter:
    """Wraps ``screen._refresh_layout``; ``calls`` counts them, ``reset()`` starts again."""

    def __init__(self, screen: Screen[Any]) -> None:
        self.calls = 0
        original = screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            self.calls += 1
            original(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]

    def reset(self) -> None:
        self.calls = 0
