"""Containers of a streaming reply that repaint only what moved when their children change.

Textual lays a container out again once a child it mounted has mounted, or one it removed
has gone, by ``refresh(layout=True)`` on it, which also marks its whole region to be
repainted. A streaming reply's widget and its open code block are such containers, as tall
as the reply or the block: at 200 tok/s (a pty census of one 4,000-token reply) those
follow-up frames came after 27 of 38 updates, ~13 ms each, a quarter of the screen's CPU,
to repaint text that had not changed.

The layout itself still happens; Textual's compositor repaints every widget whose place or
size it changed (a new page, the tail below it), so skipping the container's own repaint
loses nothing while it draws nothing of its own.
"""

from __future__ import annotations

from typing import Any, Self

from textual.geometry import Region

__all__ = ["RepaintWhatMoved"]


class RepaintWhatMoved:
    """Mixed in before a Textual widget class (a plain class: see ``OneLayoutPass``)."""

    def draws_own_content(self) -> bool:
        """Whether the widget paints anything of its own (then every refresh repaints)."""
        return False

    def refresh(self: Any, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if (layout and repaint and not regions and not recompose and self.is_mounted
                and not self.draws_own_content()):
            # What a repaint would also have dropped, and a layout needs: measured heights.
            self.clear_cached_dimensions()
            repaint = False
        return super().refresh(*regions, repaint=repaint, layout=layout,  # type: ignore[misc]
                               recompose=recompose)
