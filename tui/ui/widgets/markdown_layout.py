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
        strips: list[Strip] = []
        child_options = nested_options(options)
        for index, child in enumerate(self.children):
            if index and self.gap:
                strips.extend(Strip([], 0) for _ in range(self.gap))
            strips.extend(child.render_strips(width, None, style, child_options))
        return strips if height is None else strips[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        gaps = max(0, len(self.children) - 1) * self.gap
        return gaps + sum(child.get_height(rules, width) for child in self.children)


class Prefixed(Visual):
    """A child visual with a hanging prefix (list bullet, quote bar)."""

    def __init__(self, child: Visual, first: Content, rest: Content) -> None:
        self.child = child
        self.first = first
        self.rest = rest
        self.indent = max(first.cell_length, rest.cell_length)

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        inner = max(1, width - self.indent)
        lines = self.child.render_strips(inner, None, style, nested_options(options))
        lines = lines or [Strip([], 0)]
        first = content_strip(self.first, style, options)
        rest = content_strip(self.rest, style, options)
        strips = [Strip.join([first if i == 0 else rest, line]) for i, line in enumerate(lines)]
        return strips if height is None else strips[:height]

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

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1
