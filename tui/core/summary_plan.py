"""The summary requests: what they say, and how the messages to fold in are cut to fit.

A summary request is sized like a chat request (the same Sizer: the server's counts or the
calibrated ones) and leaves room for its own reply, so it fits by construction; a message
too big for one request is split into parts, each summarized in turn.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from tui.core.context import Budget, is_sendable, split_turns
from tui.core.models import Message, Summary
from tui.core.sizing import Sizer
from tui.core.tokens import REPLY_PRIMING, TokenCounter

__all__ = [
    "CLIP_NOTE", "MessagePiece", "SUMMARY_INSTRUCTIONS", "plan_summary_chunks",
    "summary_budget", "summary_prompt", "summary_reply_tokens",
]

CLIP_NOTE = "\n[... clipped: {n} more characters not shown]"
PART_NOTE = "[part {part} of {parts} of a long message]\n"

SUMMARY_INSTRUCTIONS = (
    "You maintain a running summary of a conversation between a user and an assistant, so "
    "it can continue after its oldest messages are gone. Write a concise summary in the "
    "conversation's language. Keep every fact, decision, open question, name, number, file "
    "name, and code identifier that later messages might refer to; drop pleasantries and "
    "repetition. If a previous summary is given, fold it in: the result replaces it. "
    "A message marked \"[part N of M ...]\" is one piece of a long message; summarize what "
    "is shown. Reply with the summary only."
)

# For small windows, where the full instructions would take a good part of the request.
SHORT_INSTRUCTIONS = (
    "Summarize the messages below concisely, folding in the previous summary if given. Keep "
    "facts, names, numbers and decisions. Reply with the summary only."
)
SHORT_INSTRUCTIONS_BELOW = 4096  # windows smaller than this get SHORT_INSTRUCTIONS

# Summaries should be short next to the window they free up.
SUMMARY_MAX_TOKENS = 1024
_LINE_OVERHEAD = 4  # "Assistant: " and the blank line between messages


@dataclass
class MessagePiece(Message):
    """Part ``part`` of ``parts`` of a message too big for one summary request."""

    part: int = 1
    parts: int = 1

    @property
    def is_last(self) -> bool:
        return self.part == self.parts


def ends_message(message: Message) -> bool:
    """False for a piece that is not its message's last: a summary can't end there."""
    return not isinstance(message, MessagePiece) or message.is_last


def summary_reply_tokens(window: int) -> int:
    """The room a summary's reply gets (its max_tokens): small next to the window."""
    return max(32, min(SUMMARY_MAX_TOKENS, window // 8))


def summary_budget(window: int) -> Budget:
    """The prompt budget of a summary request: the window minus its reply and a margin."""
    return Budget(window=window, reserved_output=summary_reply_tokens(window),
                  safety_margin=max(16, window // 50))


def _transcript_line(message: Message) -> str:
    label = {"user": "User", "assistant": "Assistant", "system": "System"}.get(
        str(message.role), str(message.role))
    return f"{label}: {message.content}"


def summary_prompt(messages: list[Message], previous: Summary | None, *,
                   max_message_chars: int | None = None,
                   window: int | None = None) -> list[dict[str, str]]:
    """The request that asks the model to fold ``messages`` into ``previous``.

    ``max_message_chars`` clips longer messages (marked in the text); plan_summary_chunks
    already returns parts of messages too big for one request. A ``window`` under
    SHORT_INSTRUCTIONS_BELOW gets the short instructions.
    """
    parts = []
    if previous is not None:
        parts.append(f"Previous summary:\n{previous.content}")
    lines = []
    for m in messages:
        if not is_sendable(m):
            continue
        if max_message_chars is not None and len(m.content) > max_message_chars:
            clipped = m.content[:max_message_chars] + CLIP_NOTE.format(
                n=len(m.content) - max_message_chars)
            lines.append(_transcript_line(_with_content(m, clipped)))
        else:
            lines.append(_transcript_line(m))
    transcript = "\n\n".join(lines)
    parts.append(f"Messages to fold in:\n\n{transcript}" if transcript else
                 "No new messages.")
    small = window is not None and window < SHORT_INSTRUCTIONS_BELOW
    return [{"role": "system", "content": SHORT_INSTRUCTIONS if small else SUMMARY_INSTRUCTIONS},
            {"role": "user", "content": "\n\n".join(parts)}]


def _with_content(message: Message, content: str, **extra: int) -> Message:
    values = {f.name: getattr(message, f.name) for f in fields(Message)}
    values.update(content=content, token_count=None, token_encoding=None)
    if extra:
        return MessagePiece(**values, **extra)
    return Message(**values)


def request_tokens(messages: list[dict[str, str]], sizer: Sizer) -> int:
    """The server's count for a small request (summary, title), from local counts."""
    if sizer.exact:
        return sizer.tokens(sum(sizer.text_units(m["role"], m["content"]) for m in messages))
    local = REPLY_PRIMING + sum(sizer.text_local(m["role"], m["content"]) for m in messages)
    return sizer.tokens(local)


def _capacity(sizer: Sizer, fixed_units: int, available: int) -> int:
    """The most units of transcript that keep the request within ``available`` tokens."""
    low, high = 0, max(1, available * 8)
    while low < high:
        mid = (low + high + 1) // 2
        if sizer.tokens(fixed_units + mid) <= available:
            low = mid
        else:
            high = mid - 1
    return low


def split_message(message: Message, capacity: int, sizer: Sizer,
                  counter: TokenCounter) -> list[Message]:
    """``message`` cut into parts whose transcript lines fit ``capacity`` units each."""
    content = message.content
    whole = max(1, sizer.text_units(str(message.role), content) + _LINE_OVERHEAD)
    room = max(1, capacity - _LINE_OVERHEAD - 16)  # the part note
    size = max(1, int(len(content) * room / whole * 0.9))
    while True:
        pieces = [content[i:i + size] for i in range(0, len(content), size)] or [""]
        n = len(pieces)
        parts = [_with_content(message, PART_NOTE.format(part=i + 1, parts=n) + piece,
                               part=i + 1, parts=n) for i, piece in enumerate(pieces)]
        if size <= 16 or all(sizer.text_units(str(p.role), p.content) + _LINE_OVERHEAD
                             <= capacity for p in parts):
            return parts
        size = size * 3 // 4


def plan_summary_chunks(messages: list[Message], budget: Budget, counter: TokenCounter, *,
                        previous: Summary | None = None,
                        sizer: Sizer | None = None) -> list[list[Message]]:
    """Split the messages to summarize into pieces that each fit one summary request.

    ``budget`` is the summary request's (summary_budget: its reply already reserved). Each
    request holds the instructions, the summary so far (room for a full summary reply, or
    ``previous``'s size if bigger) and one piece. Whole turns are packed together when they
    fit; a message too big for a piece on its own is split into MessagePiece parts.
    """
    sizer = sizer or Sizer(counter)
    instructions = sum(sizer.text_units(m["role"], m["content"])
                       for m in summary_prompt([], None, window=budget.window)) + sizer.priming
    allowance = _units_for(sizer, budget.reserved_output)
    if previous is not None:
        allowance = max(allowance, sizer.text_units("user", previous.content))
    capacity = max(32, _capacity(sizer, instructions + allowance, budget.available))

    chunks: list[list[Message]] = []
    current: list[Message] = []
    used = 0
    for turn in split_turns([m for m in messages if is_sendable(m)]):
        sizes = [sizer.units(m) + _LINE_OVERHEAD for m in turn]
        if used + sum(sizes) <= capacity:
            current.extend(turn)
            used += sum(sizes)
            continue
        if current:
            chunks.append(current)
            current, used = [], 0
        for message, size in zip(turn, sizes):
            if size > capacity:
                if current:
                    chunks.append(current)
                    current, used = [], 0
                chunks.extend([piece] for piece in split_message(message, capacity, sizer,
                                                                 counter))
                continue
            if used + size > capacity and current:
                chunks.append(current)
                current, used = [], 0
            current.append(message)
            used += size
    if current:
        chunks.append(current)
    return chunks


def _units_for(sizer: Sizer, tokens: int) -> int:
    """Units that stand for at most ``tokens`` server tokens (rounded to the safe side)."""
    if sizer.exact or not sizer.calibration.learned:
        return tokens
    cal = sizer.calibration
    ratio = cal.ratio * (1 + cal.slack)
    return -(-tokens // 1) if ratio >= 1 else int(tokens / ratio) + 1
