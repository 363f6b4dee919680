"""Link reference definitions (``[x]: url``) across a document that arrives in pieces.

A definition applies to the whole document, above and below it, but the splitter parses only
its unfinished tail. :class:`ReferenceBook` carries the definitions over: one counts once the
lines it sits on are final, later parses get it in their ``env``, and blocks handed out
before it (whose source might use it) can be built again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.ui.widgets.markdown_blocks import Block, Stack, build_top_level_blocks

if TYPE_CHECKING:  # markdown-it loads when a reply is first drawn (see tui.ui.app)
    from markdown_it import MarkdownIt

__all__ = ["ReferenceBook"]


class ReferenceBook:
    """Final definitions, and the handed-out blocks that may use one."""

    def __init__(self) -> None:
        self.known: dict[str, Any] = {}
        """Final definitions by normalised label, as markdown-it records them."""
        self._users: list[tuple[int, str, str]] = []
        """(block number, source, normalised source) of blocks whose source has a ``]``."""

    def env(self) -> dict[str, Any]:
        """A markdown-it ``env`` for parsing the tail: the final definitions apply.

        Without any, no ``references`` key: markdown-it then skips looking up every
        ``[...]`` as a reference label, which costs it a few percent of its time.
        """
        return {"references": dict(self.known)} if self.known else {}

    def _parsed(self, env: dict[str, Any]) -> dict[str, Any]:
        """Definitions the last parse found that are not final yet."""
        parsed = env.get("references", {})
        if len(parsed) == len(self.known):  # the usual case: it holds the known ones only
            return {}
        return {label: parsed[label] for label in parsed.keys() - self.known.keys()}

    def final_end(self, env: dict[str, Any], line: int) -> int:
        """Where the final source ends when the live block starts at ``line``.

        A definition that ends right above the live block may still take that block's
        lines as its title (``[x]: /url`` then ``'a title'``), so it stays unfinished
        with it; duplicates count too, a title they take is not shown either.
        """
        records = [*self._parsed(env).values(), *env.get("duplicate_refs", [])]
        if not records:
            return line
        return min([line, *(r["map"][0] for r in records if r["map"][1] == line)])

    def settle(self, env: dict[str, Any], end_line: int) -> tuple[dict[str, Any], bool]:
        """Definitions the last parse found on lines before ``end_line`` become final;
        returns them, and whether the parse found others (further down) too."""
        parsed = self._parsed(env)
        if not parsed:
            return {}, False
        final = {label: ref for label, ref in parsed.items() if ref["map"][1] <= end_line}
        self.known.update(final)
        return final, len(final) < len(parsed)

    def note(self, number: int, source: str) -> None:
        """Remember block ``number``'s source if it may use a definition yet to come."""
        if "]" in source:
            from markdown_it.common.utils import normalizeReference

            self._users.append((number, source, normalizeReference(source)))

    def revise(self, labels: dict[str, Any], parser: MarkdownIt) -> tuple[list[tuple[int, Block]], int]:
        """Blocks built again because they may use one of ``labels`` (newly final), by
        number, and the characters parsed to build them."""
        revised: list[tuple[int, Block]] = []
        parsed = 0
        for number, source, normalised in self._users:
            if any(label in normalised for label in labels):
                blocks = build_top_level_blocks(parser.parse(source, self.env()))
                parsed += len(source)
                if len(blocks) == 1:
                    revised.append((number, blocks[0]))
                elif blocks:
                    visual = Stack([block.visual for block in blocks])
                    revised.append((number, Block(blocks[0].kind, visual)))
        return revised, parsed
