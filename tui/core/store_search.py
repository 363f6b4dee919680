"""Turning what a user types into a safe FTS5 query.

FTS5 has its own query language (quotes, AND/OR/NOT, ``*``, ``-``, ``col:``); a search box
must never fail on it. Every whitespace-separated term becomes a quoted phrase (embedded
quotes doubled), terms without any letter or digit are dropped since they cannot match a
token, and the last term is a prefix match unless the text ends in a space, so results
follow the user while they type.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w")


def fts_query(text: str, *, prefix_last: bool = True) -> str | None:
    """The FTS5 MATCH expression for ``text``, or None when nothing in it can match."""
    terms = [term for term in text.split() if _WORD.search(term)]
    if not terms:
        return None
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    if prefix_last and not text[-1:].isspace():
        quoted[-1] += "*"
    return " ".join(quoted)
