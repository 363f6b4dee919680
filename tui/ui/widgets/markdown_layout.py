"""Layout visuals that arrange other visuals: stacks, hanging prefixes, rules.

Also the two rendering helpers every Markdown visual shares, so a line of
Content is drawn the same way in a paragraph, a code panel or a table.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from rich.segment import Segment
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from tui.ui.widgets.markdown_selection import BLANK, SKIPPED, Row, Run, render_rows
from tui.ui.widgets.markdown_styles import STYLES

__all__ = ["Prefixed", "Rule", "Stack", "content_strip", "nested_options"]


def content_strip(content: Content, style: Style, options: RenderOptions) -> Strip:
    """One line of Content as a Strip, resolving component/variable styles."""
    segments = [
        Segment(text, (style + text_style).rich_style)
        for text, text_style in content.render(style, end="", parse_style=options.get_style)
    ]
    return Strip(segments, content.cell_length)


def nested_options(options: RenderOptions) -> RenderOptions:
    """Options for a child visual: selection offsets are only valid at top level."""
    if options.selection is None:
        return options
    return dataclasses.replace(options, selection=None, selection_style=None)


class Stack(Visual):
    """Visuals one above another, with ``gap`` blank lines between them."""

    def __init__(self, children: Sequence[Visual], gap: int = 1) -> None:
        self.children = list(children)
        self.gap = gap

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        strips = self.render_rows(width, style, options)[0]
        return strips if height is None else strips[:height]

    def render_rows(
        self, width: int, style: Style, options: RenderOptions
    ) -> tuple[list[Strip], list[Row]]:
        strips: list[Strip] = []
        rows: list[Row] = []
        child_options = nested_options(options)
        for index, child in enumerate(self.children):
            if index and self.gap:
                strips.extend(Strip([], 0) for _ in range(self.gap))
                rows.extend([BLANK] * self.gap)
            child_strips, child_rows = self.child_rows(child, width, style, child_options)
            strips.extend(child_strips)
            rows.extend(child_rows)
        return strips, rows

    def child_rows(self, child: Visual, width: int, style: Style,
                   options: RenderOptions) -> tuple[list[Strip], list[Row]]:
        """One child drawn (a subclass may keep what it drew)."""
        return render_rows(child, width, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        gaps = max(0, len(self.children) - 1) * self.gap
        return gaps + sum(child.get_height(rules, width) for child in self.children)


class Prefixed(Visual):
    """A child visual with a hanging prefix (list bullet, quote bar).

    A ``copied`` prefix (a list marker, and the indent of the item's later lines) is part
    of the text a mouse selection copies; a quote bar is not.
    """

    def __init__(self, child: Visual, first: Content, rest: Content, *,
                 copied: bool = False) -> None:
        self.child = child
        self.first = first
        self.rest = rest
        self.copied = copied
        self.indent = max(first.cell_length, rest.cell_length)

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        strips = self.render_rows(width, style, options)[0]
        return strips if height is None else strips[:height]

    def render_rows(
        self, width: int, style: Style, options: RenderOptions
    ) -> tuple[list[Strip], list[Row]]:
        inner = max(1, width - self.indent)
        lines, child_rows = render_rows(self.child, inner, style, nested_options(options))
        if not lines:
            lines, child_rows = [Strip([], 0)], [BLANK]
        first = content_strip(self.first, style, options)
        rest = content_strip(self.rest, style, options)
        strips = [Strip.join([first if i == 0 else rest, line]) for i, line in enumerate(lines)]
        rows: list[Row] = []
        new_line = True  # the row starts a line of the copied text (not a wrap's rest)
        for index, row in enumerate(child_rows):
            prefix = None
            if self.copied and new_line and row.runs:
                prefix = Run(0, (self.first if index == 0 else self.rest).plain)
            rows.append(row.shifted(self.indent, prefix))
            new_line = row.end == "\n"
        return strips, rows

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return max(1, self.child.get_height(rules, max(1, width - self.indent)))


class Rule(Visual):
    """A horizontal rule across the full width."""

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return [content_strip(Content.styled("─" * width, STYLES["hr"]), style, options)]

    def render_rows(
        self, width: int, style: Style, options: RenderOptions
    ) -> tuple[list[Strip], list[Row]]:
        """A rule copies as nothing (the blank lines either side of it stay)."""
        return self.render_strips(width, None, style, options), [SKIPPED]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1
