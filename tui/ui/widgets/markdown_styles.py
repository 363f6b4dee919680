"""The inline style table shared by every Markdown visual.

Kept apart so the code, table and layout visuals read one table without
importing one another, and so restyling means editing one dict.
"""

from __future__ import annotations

__all__ = ["STYLES"]

STYLES: dict[str, str] = {
    "h1": "bold underline $text-primary",
    "h2": "bold $text-primary",
    "h3": "bold $text-secondary",
    "h4": "bold italic $text-secondary",
    "h5": "bold italic",
    "h6": "italic",
    "em": "italic",
    "strong": "bold",
    "strike": "strike",
    "code-inline": "$text-warning on $warning-muted",
    "link": "underline $text-accent",
    "code": "on $foreground 6%",
    "code-label": "italic $text-muted",
    "bullet": "$text-accent",
    "quote-bar": "$primary",
    "hr": "$primary-muted",
    "table-border": "$primary-muted",
    "table-header": "bold $text-primary",
}
"""Inline styles: Textual style strings with theme variables.

Resolved when a line is drawn, so they follow the app theme.  These are not
CSS component classes on purpose: each component class costs every widget
instance a styled DOM node, which made mounting a stored message ~2x slower.
Change entries before building blocks to restyle.
"""
