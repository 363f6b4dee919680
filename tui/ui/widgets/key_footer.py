"""The footer, with help and quit always first, as nano has them.

Textual's footer lists the focused widget's keys first and the app's last, so whenever the
keys do not fit (a narrow screen, or the messages' many keys even at 160 columns) the keys a
new user needs most (help, quit) are the ones cut off. First, they are always in view, and
always in the same place; moved there only when the keys did not fit, they would jump each
time "Stop reply" came and went around a reply.

Textual's footer also rebuilds every key on each change of the bindings: a focus change that
leaves the keys as they were, or "Stop reply" coming and going around every reply. Rebuilt,
the fourteen keys cost a dozen milliseconds and a re-layout of the screen right when a reply's
last words are painted; here only the keys that differ are added or removed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

ALWAYS_SHOWN = ("help", "quit")

Signature = tuple[object, ...]


def signature(item: Widget) -> Signature | None:
    """What a footer key shows and does; None for anything else (a key group, a label)."""
    try:
        return (type(item), item.key, item.key_display, item.description,  # type: ignore[attr-defined]
                item.action, item.has_class("-disabled"),  # type: ignore[attr-defined]
                item.has_class("-command-palette"), str(item.tooltip or ""))
    except AttributeError:
        return None


class KeyFooter(Footer):
    def compose(self) -> ComposeResult:
        items = list(super().compose())
        self._relabel(items)
        first = sorted((item for item in items
                        if getattr(item, "action", None) in ALWAYS_SHOWN),
                       key=lambda item: ALWAYS_SHOWN.index(item.action))  # type: ignore[attr-defined]
        yield from first + [item for item in items if item not in first]

    def _relabel(self, items: list[Widget]) -> None:
        """A node whose keys mean something else in some state (the archived list's
        "Unarchive") says what to call them, through its ``footer_label(action, description)``;
        a binding's own description is fixed."""
        if not self.is_attached:
            return
        active = self.screen.active_bindings
        for item in items:
            bound = active.get(getattr(item, "key", None))  # type: ignore[arg-type]
            label = getattr(bound.node, "footer_label", None) if bound else None
            if label is not None:
                item.description = label(bound.binding.action,  # type: ignore[union-attr,attr-defined]
                                         item.description)  # type: ignore[attr-defined]

    async def recompose(self) -> None:
        """Add and remove only the keys that changed; rebuild when more than that moved."""
        if not self.is_attached or not self.is_mounted:
            return await super().recompose()
        current = list(self.children)
        try:
            wanted = list(self.compose())
        except Exception:  # grouped keys need Textual's compose context: rebuild instead
            return await super().recompose()
        old = [signature(item) for item in current]
        new = [signature(item) for item in wanted]
        if None in old or None in new:
            return await super().recompose()
        if old == new:
            return
        if _is_subsequence(new, old):
            await self.remove_children([w for w in current if w not in _matched(current, old, new)])
        elif _is_subsequence(old, new):
            kept = iter(current)
            next_kept = next(kept, None)
            for item, sig in zip(wanted, new):
                if not self.is_attached:  # the app quit while an earlier key mounted
                    return
                if next_kept is not None and signature(next_kept) == sig:
                    next_kept = next(kept, None)
                elif next_kept is not None:
                    await self.mount(item, before=next_kept)
                else:
                    await self.mount(item)
        else:
            await super().recompose()


def _is_subsequence(short: list[Signature | None], long: list[Signature | None]) -> bool:
    remaining = iter(long)
    return all(any(item == other for other in remaining) for item in short)


def _matched(current: list[Widget], old: list[Signature | None],
             new: list[Signature | None]) -> list[Widget]:
    """The widgets of ``current`` (signatures ``old``) that ``new`` keeps, in order."""
    kept: list[Widget] = []
    position = 0
    for sig in new:
        while old[position] != sig:
            position += 1
        kept.append(current[position])
        position += 1
    return kept
