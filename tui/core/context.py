"""Context window management: what the next request sends, and whether it must shrink first.

Pure functions over stored records: no HTTP, no database. The chat flow calls
:func:`plan_request` before every request; it reuses each message's stored token count (so a
send costs one pass of additions over the history, not a re-tokenization) and tells the
caller which counts it had to redo so they can be stored.

Requests are built from whole turns (a user message and the replies up to the next user
message), so the model never sees an answer without its question. The system prompt and the
newest user message are always sent; error messages and empty replies never are. Totals
are scaled by the conversation's server/local ratio (see tokens.update_correction) before
they are compared with the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tui.core.models import Message, MessageStatus, Role, Strategy, Summary
from tui.core.tokens import (
    REPLY_PRIMING,
    TokenCounter,
    apply_correction,
    update_correction,
)
from tui.core.windows import DEFAULT_RESERVED_OUTPUT

__all__ = [
    "Budget", "ContextOverflow", "RequestPlan", "SUMMARY_PREFIX", "budget_for", "is_sendable",
    "plan_request", "plan_summary_chunks", "split_turns", "stored_count", "summary_message",
    "summary_prompt", "turn_end_id", "update_correction",
]

SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
CLIP_NOTE = "\n[... clipped: {n} more characters not shown]"


@dataclass
class Budget:
    window: int
    reserved_output: int
    safety_margin: int

    @property
    def available(self) -> int:
        """Prompt tokens a request may use."""
        return max(0, self.window - self.reserved_output - self.safety_margin)


def budget_for(window: int, max_output_tokens: int | None) -> Budget:
    """The prompt budget for a window.

    The reply's room is the conversation's max output tokens when set (capped at 3/4 of the
    window so a prompt still fits), else DEFAULT_RESERVED_OUTPUT but at most a quarter of a
    small window. The safety margin (1% of the window, at least 16) absorbs what local counts
    miss: chat-template tokens, a tokenizer that differs a little.
    """
    window = max(1, int(window))
    if max_output_tokens is not None and max_output_tokens > 0:
        reserved = min(max_output_tokens, window * 3 // 4)
    else:
        reserved = min(DEFAULT_RESERVED_OUTPUT, window // 4)
    return Budget(window=window, reserved_output=reserved, safety_margin=max(16, window // 100))


@dataclass
class RequestPlan:
    messages: list[dict[str, str]]
    tokens: int  # local count of `messages` + REPLY_PRIMING, corrected
    sent_ids: list[str]
    dropped_ids: list[str]  # older messages not sent: covered by the summary or truncated
    summary: Summary | None
    truncated: bool
    to_summarize: list[Message]
    # Additive: counts computed here (stored count missing or from another encoding), by
    # message id, for the caller to store with counter.encoding_label.
    recounted: dict[str, int] = field(default_factory=dict)
    # Additive: the uncorrected count, what update_correction wants as `local`.
    local_tokens: int = 0
    # Additive: error messages and empty replies among the kept messages (never sent).
    skipped_ids: list[str] = field(default_factory=list)


class ContextOverflow(Exception):
    """The request can't be made to fit: its smallest form, or (strategy=off) all of it."""

    def __init__(self, tokens: int, budget: Budget, what: str = "the newest message") -> None:
        self.tokens = tokens
        self.window = budget.window
        self.available = budget.available
        self.reserved_output = budget.reserved_output
        super().__init__(
            f"{what} needs {tokens:,} tokens but the model's context window is "
            f"{budget.window:,} tokens ({budget.available:,} after reserving "
            f"{budget.reserved_output:,} for the reply and a {budget.safety_margin:,}-token margin)"
        )


def is_sendable(message: Message) -> bool:
    """Error messages and replies with nothing in them are never sent to the model."""
    if message.status == MessageStatus.ERROR:
        return False
    return not (message.role == Role.ASSISTANT and not message.content.strip())


def summary_message(summary: Summary) -> dict[str, str]:
    return {"role": "system", "content": SUMMARY_PREFIX + summary.content}


def stored_count(message: Message, counter: TokenCounter) -> int | None:
    """The message's stored count if it can be trusted for ``counter``, else None.

    Trusted when it came from the live encoding; while the counter is still estimating, an
    exact count from any encoding beats a fresh estimate, so it is kept too.
    """
    if message.token_count is None or message.token_encoding is None:
        return None
    if message.token_encoding == counter.encoding_label:
        return message.token_count
    if not counter.exact and message.token_encoding != "estimate":
        return message.token_count
    return None


class _Counts:
    """Message counts for one plan: stored ones reused, the rest counted once and recorded."""

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter
        self.recounted: dict[str, int] = {}

    def __call__(self, message: Message) -> int:
        n = stored_count(message, self.counter)
        if n is None:
            n = self.recounted.get(message.id)
            if n is None:
                n = self.counter.count_message(str(message.role), message.content)
                self.recounted[message.id] = n
        return n


def split_turns(messages: list[Message]) -> list[list[Message]]:
    """Split at each user message; anything before the first one is a turn of its own."""
    turns: list[list[Message]] = []
    for message in messages:
        if message.role == Role.USER or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def turn_end_id(turn: list[Message]) -> str:
    """The id a summary must reach to cover ``turn``: its last message that would be sent."""
    sendable = [m.id for m in turn if is_sendable(m)]
    return sendable[-1] if sendable else turn[0].id


def _newest_fitting(turn_tokens: list[int], base: int, available: int,
                    correction: float) -> int:
    """Index of the oldest turn kept when keeping the newest turns that fit (contiguously)."""
    total = base
    start = len(turn_tokens)
    while start > 0 and apply_correction(total + turn_tokens[start - 1], correction) <= available:
        start -= 1
        total += turn_tokens[start]
    return start


def plan_request(*, system_prompt: str, history: list[Message], summary: Summary | None,
                 budget: Budget, strategy: Strategy, counter: TokenCounter,
                 correction: float = 0.0, trigger: float = 0.8, target: float = 0.5
                 ) -> RequestPlan:
    """Decide what the next request sends. See the module docstring and RequestPlan.

    summarize: below ``trigger`` x budget everything not covered by ``summary`` is sent; above
    it, ``to_summarize`` lists the oldest turns whose removal brings the request to ``target``
    x budget, and ``messages`` is still a request that fits (truncated if need be) in case
    summarizing fails. A summary too big to leave room for the newest turn is dropped and the
    request truncated. truncate: the newest whole turns that fit. off: everything, or
    ContextOverflow. Summaries are only used by the summarize strategy.

    Raises ContextOverflow when the system prompt and the newest turn alone don't fit.
    """
    available = budget.available
    counts = _Counts(counter)
    use_summary = summary if strategy == Strategy.SUMMARIZE else None

    turns = split_turns(history)
    # Summary coverage never reaches into the newest turn: the newest user message is sent.
    covered_turns = 0
    if use_summary is not None:
        last_id = use_summary.last_message_id
        while (covered_turns < len(turns) - 1
               and turn_end_id(turns[covered_turns]) <= last_id):
            covered_turns += 1
    covered = [m for turn in turns[:covered_turns] for m in turn]
    pending_turns = [[m for m in turn if is_sendable(m)] for turn in turns[covered_turns:]]
    skipped_by_turn = [[m.id for m in turn if not is_sendable(m)]
                       for turn in turns[covered_turns:]]
    turn_tokens = [sum(counts(m) for m in turn) for turn in pending_turns]

    system_tokens = counter.count_message("system", system_prompt) if system_prompt else 0
    base = system_tokens + REPLY_PRIMING
    summary_tokens = 0
    if use_summary is not None:
        summary_tokens = counter.count_message("system", summary_message(use_summary)["content"])

    newest = turn_tokens[-1] if turn_tokens else 0
    if apply_correction(base + newest, correction) > available:
        raise ContextOverflow(apply_correction(base + newest, correction), budget)

    full = base + summary_tokens + sum(turn_tokens)
    to_summarize: list[Message] = []
    summary_dropped = False
    if strategy == Strategy.OFF:
        if apply_correction(full, correction) > available:
            raise ContextOverflow(apply_correction(full, correction), budget,
                                  "the whole conversation (context strategy: off)")
        start = 0
    elif strategy == Strategy.TRUNCATE:
        start = _newest_fitting(turn_tokens, base, available, correction)
    else:
        if apply_correction(full, correction) > trigger * available:
            remaining, cut = full, 0
            while (cut < len(turn_tokens) - 1
                   and apply_correction(remaining, correction) > target * available):
                remaining -= turn_tokens[cut]
                cut += 1
            to_summarize = [m for turn in pending_turns[:cut] for m in turn]
            if use_summary is not None:  # a turn the summary covers in part: fold the rest
                to_summarize = [m for m in to_summarize
                                if m.id > use_summary.last_message_id]
        start = 0
        if apply_correction(full, correction) > available:
            if apply_correction(base + summary_tokens + newest, correction) > available:
                use_summary, summary_tokens = None, 0  # the summary itself is too big
                summary_dropped = True
            start = _newest_fitting(turn_tokens, base + summary_tokens, available, correction)

    # Older messages not sent: those the summary covers (dropped without it, if it was too
    # big), then whole turns cut by truncation; errors among them included.
    dropped = [m.id for m in covered]
    for turn in turns[covered_turns:covered_turns + start]:
        dropped.extend(m.id for m in turn)
    truncated = start > 0 or (summary_dropped and bool(covered))
    kept = [m for turn in pending_turns[start:] for m in turn]
    skipped_ids = [i for ids in skipped_by_turn[start:] for i in ids]

    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    if use_summary is not None:
        messages.append(summary_message(use_summary))
    messages.extend({"role": str(m.role), "content": m.content} for m in kept)
    local = base + summary_tokens + sum(turn_tokens[start:])
    return RequestPlan(
        messages=messages,
        tokens=apply_correction(local, correction),
        sent_ids=[m.id for m in kept],
        dropped_ids=dropped,
        summary=use_summary,
        truncated=truncated,
        to_summarize=to_summarize,
        recounted=counts.recounted,
        local_tokens=local,
        skipped_ids=skipped_ids,
    )


# --- summaries --------------------------------------------------------------------------------

SUMMARY_INSTRUCTIONS = (
    "You maintain a running summary of a conversation between a user and an assistant, so "
    "it can continue after its oldest messages are gone. Write a concise summary in the "
    "conversation's language. Keep every fact, decision, open question, name, number, file "
    "name, and code identifier that later messages might refer to; drop pleasantries and "
    "repetition. If a previous summary is given, fold it in: the result replaces it. "
    "Messages marked \"[... clipped ...]\" were cut to fit this request; summarize what is "
    "shown. Reply with the summary only."
)


def _transcript_line(message: Message, max_chars: int | None) -> str:
    content = message.content
    if max_chars is not None and len(content) > max_chars:
        content = content[:max_chars] + CLIP_NOTE.format(n=len(content) - max_chars)
    label = {"user": "User", "assistant": "Assistant", "system": "System"}.get(
        str(message.role), str(message.role))
    return f"{label}: {content}"


def summary_prompt(messages: list[Message], previous: Summary | None, *,
                   max_message_chars: int | None = None) -> list[dict[str, str]]:
    """The request that asks the model to fold ``messages`` into ``previous``.

    ``max_message_chars`` clips longer messages (marked in the text); plan_summary_chunks
    already returns clipped copies of messages too big for one request.
    """
    parts = []
    if previous is not None:
        parts.append(f"Previous summary:\n{previous.content}")
    transcript = "\n\n".join(_transcript_line(m, max_message_chars)
                             for m in messages if is_sendable(m))
    parts.append(f"Messages to fold in:\n\n{transcript}" if transcript else
                 "No new messages.")
    return [{"role": "system", "content": SUMMARY_INSTRUCTIONS},
            {"role": "user", "content": "\n\n".join(parts)}]


# Room kept in each summary request for the running summary it folds in.
SUMMARY_ALLOWANCE = 1024
_LINE_OVERHEAD = 4  # "Assistant: " and the blank line between messages


def _clip_to(message: Message, tokens: int, counter: TokenCounter) -> Message:
    """A copy of ``message`` whose content (with the clip note) fits ``tokens``."""
    content = message.content
    full = max(1, counter.count_text(content))
    keep = max(0, min(len(content), int(len(content) * tokens / full)))
    while True:
        clipped = content[:keep] + CLIP_NOTE.format(n=len(content) - keep)
        if keep == 0 or counter.count_text(clipped) <= tokens:
            return replace(message, content=clipped, token_count=None, token_encoding=None)
        keep = keep * 4 // 5


def plan_summary_chunks(messages: list[Message], budget: Budget, counter: TokenCounter, *,
                        previous: Summary | None = None) -> list[list[Message]]:
    """Split the messages to summarize into pieces that each fit one summary request.

    Each request holds the instructions, the summary so far (up to SUMMARY_ALLOWANCE tokens,
    or ``previous``'s size if bigger) and one piece. A message too big for a piece on its own
    comes back as a clipped copy (its content cut and marked), alone in its piece.
    """
    counts = _Counts(counter)
    instructions = sum(counter.count_message(m["role"], m["content"])
                       for m in summary_prompt([], None)) + REPLY_PRIMING
    allowance = min(SUMMARY_ALLOWANCE, budget.available // 4)
    if previous is not None:
        allowance = max(allowance, counter.count_text(previous.content))
    capacity = max(32, budget.available - instructions - allowance)

    # Pack whole turns, so a failure between pieces leaves the summary ending at a turn's
    # end; a turn bigger than a piece is split between messages.
    chunks: list[list[Message]] = []
    current: list[Message] = []
    used = 0
    for turn in split_turns([m for m in messages if is_sendable(m)]):
        sizes = [counts(m) + _LINE_OVERHEAD for m in turn]
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
                chunks.append([_clip_to(message, capacity - _LINE_OVERHEAD * 4, counter)])
                continue
            if used + size > capacity and current:
                chunks.append(current)
                current, used = [], 0
            current.append(message)
            used += size
    if current:
        chunks.append(current)
    return chunks
