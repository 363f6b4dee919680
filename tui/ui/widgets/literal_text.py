"""Untrusted text shown verbatim in a ``Static`` (:class:`LiteralText`), and the ``Content``
it is built from (:func:`literal`).

Apart from the streaming reply (``streaming_markdown``, which re-exports both): these share
its sanitising (``markdown_blocks.sanitize``) but none of its streaming.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from tui.ui.widgets.markdown_blocks import sanitize

__all__ = ["LiteralText", "literal"]


def literal(text: str) -> Content:
    """Content that shows ``text`` exactly: no markup, no escape sequences."""
    return Content(sanitize(text.replace("\r\n", "\n").replace("\r", "\n")))


class LiteralText(Static):
    """A user message (or any untrusted text) shown verbatim.

    ``Static("...")`` would parse ``[bold]`` as markup; this never does.
    """

    DEFAULT_CSS = """
    LiteralText {
        height: auto;
    }
    """

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        self._text = text
        super().__init__(literal(text), **kwargs)

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.update(literal(text))
