"""Conversation titles derived from text, so a new chat is named the moment it starts."""

from __future__ import annotations

import re

MAX_TITLE = 60

_WS = re.compile(r"\s+")
_MARKDOWN_NOISE = re.compile(r"^[#>*\-\s`]+")
_INLINE_MARKUP = (
    (re.compile(r"!?\[([^\]\n]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"), r"\1"),  # [text](url)
    (re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)"), r"\2"),  # `code`, ``a `b` c``
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **strong**, __strong__
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),  # *em*
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])"), r"\1"),  # _em_
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # ~~struck~~
)
"""A chat's first message is often Markdown: the sidebar shows ``Fix `parse()` in **main**``
as ``Fix parse() in main``. Only paired markers go (``2 * 3 * 4`` and ``snake_case`` stay)."""


def _without_inline_markup(line: str) -> str:
    for pattern, keep in _INLINE_MARKUP:
        line = pattern.sub(keep, line)
    return line


def _is_fence(line: str) -> bool:
    return line.lstrip().startswith(("```", "~~~"))


def _fence_follows(lines: list[str], at: int) -> bool:
    """Whether the next line with text after ``lines[at]`` opens a fenced block."""
    return next((_is_fence(line) for line in lines[at + 1:] if line.strip()), False)


def title_from_text(text: str, limit: int = MAX_TITLE) -> str:
    """The first meaningful line of ``text`` (prose before code: a message that is a code
    block and a question is named by the question), its inline Markdown left out,
    whitespace folded, cut at a word boundary."""
    prose = code = header = ""
    fenced = False
    lines = text.splitlines()
    for at, raw in enumerate(lines):
        if _is_fence(raw):
            fenced = not fenced
            continue
        line = _MARKDOWN_NOISE.sub("", raw).strip() if not fenced else raw.strip()
        if line and not fenced:
            if line.endswith(":") and _fence_follows(lines, at):
                # "notes.txt:" over an attached file's block (or "my code:" over a
                # snippet): the question after it names the chat better.
                header = header or line.rstrip(":").strip()
                continue
            prose = line
            break
        if line and not code:
            code = line
    line = prose or header or code or text.strip()
    line = _without_inline_markup(line) if prose else line
    line = _WS.sub(" ", "".join(ch for ch in line if ch.isprintable()))
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"
