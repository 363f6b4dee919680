"""A stand-in with StreamingMarkdown's API, used only until streaming_markdown.py lands.

Deltas are buffered and parsed in batches so a fast stream doesn't queue one Markdown
re-parse per token.
"""

from __future__ import annotations

from textual.widgets import Markdown


class StreamingMarkdown(Markdown):
    def __init__(self, initial: str = "", **kwargs) -> None:
        super().__init__(initial, **kwargs)
        self._text = initial
        self._pending: list[str] = []
        self._flushing = False

    @property
    def text(self) -> str:
        return self._text

    def append(self, text: str) -> None:  # type: ignore[override]
        if not text:
            return
        self._text += text
        self._pending.append(text)
        if not self._flushing:
            self._flushing = True
            self.call_later(self._flush)

    async def _flush(self) -> None:
        try:
            while self._pending:
                chunk = "".join(self._pending)
                self._pending.clear()
                await Markdown.append(self, chunk)
        finally:
            self._flushing = False

    def finish(self) -> None:
        """Nothing left to buffer: the flush loop drains whatever is pending."""

    def set_text(self, text: str) -> None:
        self._text = text
        self._pending.clear()
        self.update(text)
