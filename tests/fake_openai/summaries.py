"""Summary requests that misbehave the way small models do, on a script.

A small local model asked to summarize may answer with more text than it was given, or run
into max_tokens or the end of the window and stop mid-sentence (finish_reason "length").
The server recognises a summary request by its system prompt and answers it according to
the next mode of ``FakeOpenAI.summary_replies`` (cycled), leaving queued scripts to chat:

- ``"echo"``: the server's default reply text (``reply``, else "You said: ...");
- ``"short"``: a well-behaved summary, a few dozen words taken from the request, that
  stays within half of max_tokens and of the room left in the window;
- ``"long"``: the request's text twice over, longer than what it replaces (cut by
  max_tokens or the window like any reply, so it may also end with "length");
- ``"cut"``: half of that long text (or less, when a limit cuts it first), stopped mid-way
  with finish_reason "length".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.fake_openai.foreign import content_text

SUMMARY_MODES = ("echo", "short", "long", "cut")
SHORT_WORDS = 24
# How much of the long text a "cut" reply keeps when no limit cuts it first.
CUT_FRACTION = 0.5

_SUMMARY_WORD = re.compile(r"summar", re.I)
# The chat flow's own summary message ("Summary of the earlier conversation:") is not a request
# to summarize; a summary request's instructions say what to do with one.
_SUMMARY_BLOCK = re.compile(r"^\s*summary of the earlier conversation", re.I)


def is_summary_request(body: dict[str, Any]) -> bool:
    """True when the first message is a system prompt that asks for a summary."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        return False
    first = messages[0]
    text = content_text(first.get("content"))
    return (first.get("role") == "system" and bool(_SUMMARY_WORD.search(text))
            and not _SUMMARY_BLOCK.match(text))


def _material(messages: list[dict[str, Any]]) -> str:
    """The text the request asks to summarize: everything but its instructions."""
    return "\n".join(content_text(m.get("content")) for m in messages[1:]) or "nothing"


def summary_reply(mode: str, messages: list[dict[str, Any]], *, limit: int | None = None,
                  count: Callable[[str], int] = lambda text: len(text.split()),
                  ) -> tuple[str | None, str | None]:
    """(text, forced finish_reason) for a summary request; text None means the default.

    ``limit`` is the most the reply may take (max_tokens, the window's room), ``count`` the
    server's tokenizer: a "short" summary keeps to half of the limit.
    """
    if mode == "echo":
        return None, None
    material = _material(messages)
    if mode == "short":
        words = material.split()[:SHORT_WORDS]
        while limit is not None and len(words) > 1 and count(" ".join(words)) > limit // 2:
            words.pop()
        return " ".join(words), None
    if mode == "long":
        return f"{material}\n\nIn other words:\n{material}", None
    if mode == "cut":
        text = f"{material}\n\nIn other words:\n{material}"
        return text[:max(1, int(len(text) * CUT_FRACTION))], "length"
    raise ValueError(f"unknown summary mode {mode!r} (known: {', '.join(SUMMARY_MODES)})")
