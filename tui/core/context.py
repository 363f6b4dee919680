"""Context window management: what the next request sends, and whether it must shrink first.

Pure functions over stored records: no HTTP, no database. The chat flow calls
:func:`plan_request` before every request, the meter and the preview call the same function,
so what the user is shown is what is sent. Message sizes come from a :class:`Sizer` (the
server's own counts where it gives them, else local counts calibrated against what it
reported); a plan costs one pass of additions over the history.

Requests are built from whole turns (a user message and the replies up to the next user
message), so the model never sees an answer without its question. The system prompt, the
newest user message and pinned messages are always sent; error messages and empty replies
never are.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tui.core.models import Message, MessageStatus, Role, Strategy, Summary
from tui.core.sizing import Sizer, stored_count
from tui.core.tokens import MESSAGE_OVERHEAD, REPLY_PRIMING, TokenCounter
from tui.core.calibration import Calibration
from tui.core.windows import DEFAULT_RESERVED_OUTPUT

__all__ = [
    "Budget", "ContextOverflow", "RequestPlan", "SUMMARY_PREFIX", "budget_for", "is_sendable",
    "plan_request", "sizer_for", "split_turns", "stored_count", "summary_message",
    "turn_end_id",
]

SUMMARY_PREFIX = "Summary of the earlier conversation:\n"


@dataclass
class Budget:
    window: int
    reserved_output: int
    safety_margin: int

    @property
    def available(self) -> int:
        """Prompt tokens a request may use."""
        return max(0, self.window - self.reserved_output - self.safety_margin)

    def with_margin(self, extra: int) -> Budget:
        """The same budget with ``extra`` more tokens kept free (after an overflow)."""
        return replace(self, safety_margin=self.safety_margin + max(0, extra))


def budget_for(window: int, max_output_tokens: int | None) -> Budget:
    """The prompt budget for a window.

    The reply's room is the conversation's max output tokens when set (capped at 3/4 of the
    window so a prompt still fits), else DEFAULT_RESERVED_OUTPUT but at most a quarter of a
    small window. The safety margin (1% of the window, at least 16) absorbs what counts
    miss: a tokenizer that differs a little from what was calibrated.
    """
    window = max(1, int(window))
    if max_output_tokens is not None and max_output_tokens > 0:
        reserved = min(max_output_tokens, window * 3 // 4)
    else:
        reserved = min(DEFAULT_RESERVED_OUTPUT, window // 4)
    return Budget(window=window, reserved_output=reserved, safety_margin=max(16, window // 100))


def sizer_for(counter: TokenCounter, correction: float = 0.0) -> Sizer:
    """A Sizer from a conversation's stored ratio alone (no server counts, no fixed cost)."""
    return Sizer(counter, Calibration.from_ratio(correction) if correction > 0 else None)


@dataclass
class RequestPlan:
    messages: list[dict[str, str]]
    tokens: int  # what the server will count for `messages` (exact or calibrated)
    sent_ids: list[str]
    dropped_ids: list[str]  # older messages not sent: covered by the summary or truncated
    summary: Summary | None
    truncated: bool
    to_summarize: list[Message]
    # Local counts computed here (stored count missing or from another encoding), by
    # message id, for the caller to store with counter.encoding_label.
    recounted: dict[str, int] = field(default_factory=dict)
    # The local count of the request (tiktoken's rule), what calibration compares with.
    local_tokens: int = 0
    # Whether that count is the encoding's own, not an estimate (or a mix): calibration
    # learns only from such counts.
    local_exact: bool = False
    # Error messages and empty replies among the kept messages (never sent).
    skipped_ids: list[str] = field(default_factory=list)
    # Pinned messages sent although their turn was summarized or dropped.
    pinned_ids: list[str] = field(default_factory=list)
    # What sending everything (no summary, nothing dropped) would cost.
    full_tokens: int = 0
    # The prompt budget the plan was made for.
    available: int = 0
    # strategy=off sends everything; True when that is more than the budget.
    over_budget: bool = False


class ContextOverflow(Exception):
    """The request can't be made to fit: its smallest form is bigger than the budget.

    ``pinned`` and ``system_tokens`` say what besides the newest message fills it (the
    pinned messages' count and share of ``tokens``, the system prompt's share), so a front
    end can name the part the user can cut instead of blaming the message alone."""

    def __init__(self, tokens: int, budget: Budget, what: str = "the newest message", *,
                 pinned: int = 0, pinned_tokens: int = 0, system_tokens: int = 0) -> None:
        self.tokens = tokens
        self.window = budget.window
        self.available = budget.available
        self.reserved_output = budget.reserved_output
        self.what = what
        self.pinned = pinned
        self.pinned_tokens = pinned_tokens
        self.system_tokens = system_tokens
        verb = "need" if pinned else "needs"
        super().__init__(
            f"{what} {verb} {tokens:,} tokens but the model's context window is "
            f"{budget.window:,} tokens ({budget.available:,} after reserving "
            f"{budget.reserved_output:,} for the reply and a {budget.safety_margin:,}-token margin)"
        )


def is_sendable(message: Message) -> bool:
    """Error messages and replies with nothing in them are never sent to the model."""
    if message.status == MessageStatus.ERROR:
        return False
    return not (message.role == Role.ASSISTANT and not message.content.strip())


NEXT_TURN_ID = "~next"
"""The id of the message standing for the user's next one (sorts after every ULID)."""


def with_next_turn(history: list[Message], counter: TokenCounter) -> list[Message] | None:
    """``history`` and an empty message standing for the user's next one; None when the
    history does not end in a reply (its newest message is the user's already).

    Every send adds a message (a regenerate drops the last reply instead), so to the next
    request the last reply is older history, to summarize or drop, never its newest message:
    a reply that alone filled the window (a small llama.cpp slot) still leaves the chat
    sendable, where a plan of the history alone would call it too long."""
    sendable = [m for m in history if is_sendable(m)]
    if not sendable or sendable[-1].role != Role.ASSISTANT:
        return None
    count = MESSAGE_OVERHEAD + counter.count_text("user")
    return history + [Message(id=NEXT_TURN_ID, conversation_id="", role=Role.USER, content="",
                              token_count=count, token_encoding=counter.encoding_label)]


def summary_message(summary: Summary) -> dict[str, str]:
    return {"role": "system", "content": SUMMARY_PREFIX + summary.content}


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


def _newest_fitting(turn_units: list[int], base: int, available: int, sizer: Sizer) -> int:
    """Index of the oldest turn kept when keeping the newest turns that fit (contiguously)."""
    total = base
    start = len(turn_units)
    while start > 0 and sizer.tokens(total + turn_units[start - 1]) <= available:
        start -= 1
        total += turn_units[start]
    return start


def plan_request(*, system_prompt: str, history: list[Message], summary: Summary | None,
                 budget: Budget, strategy: Strategy, counter: TokenCounter,
                 correction: float = 0.0, sizer: Sizer | None = None, trigger: float = 0.8,
                 target: float = 0.5) -> RequestPlan:
    """Decide what the next request sends. See the module docstring and RequestPlan.

    summarize: below ``trigger`` x budget everything not covered by ``summary`` is sent; above
    it, ``to_summarize`` lists the oldest turns whose removal brings the request to ``target``
    x budget, and ``messages`` is still a request that fits (truncated if need be) in case
    summarizing fails. A summary too big to leave room for the newest turn is dropped and the
    request truncated. truncate: the newest whole turns that fit. off: everything, always
    (the server has the last word; ``over_budget`` says it will likely refuse). Summaries
    are only used by the summarize strategy. Pinned messages are sent whatever happens to
    their turn. ``sizer`` overrides ``counter``/``correction`` (the stored ratio alone).

    Raises ContextOverflow when the system prompt, pinned messages and the newest turn alone
    don't fit (never with strategy off).
    """
    sizer = sizer or sizer_for(counter, correction)
    sizer.sync()
    available = budget.available
    use_summary = summary if strategy == Strategy.SUMMARIZE else None
    units = sizer.units if sizer.exact else sizer.local  # local counts are the units

    turns = split_turns(history)
    # Summary coverage never reaches into the newest turn: the newest user message is sent.
    covered_turns = 0
    if use_summary is not None:
        last_id = use_summary.last_message_id
        while (covered_turns < len(turns) - 1
               and turn_end_id(turns[covered_turns]) <= last_id):
            covered_turns += 1
    # Pinned messages of all but the newest turn are sent apart from their turn.
    pinned: list[Message] = [m for turn in turns[:-1] for m in turn
                             if m.pinned and is_sendable(m)]
    pinned_set = {m.id for m in pinned}
    covered = [m for turn in turns[:covered_turns] for m in turn]
    pending_turns: list[list[Message]] = []
    skipped_by_turn: list[list[str]] = []
    turn_units: list[int] = []
    for turn in turns[covered_turns:]:
        kept_here: list[Message] = []
        skipped_here: list[str] = []
        size = 0
        for m in turn:
            if not is_sendable(m):
                skipped_here.append(m.id)
            elif m.id not in pinned_set:
                kept_here.append(m)
                size += units(m)
        pending_turns.append(kept_here)
        skipped_by_turn.append(skipped_here)
        turn_units.append(size)
    pinned_units = sum(units(m) for m in pinned)

    system_units = sizer.text_units("system", system_prompt) if system_prompt else 0
    base = system_units + sizer.priming + pinned_units
    summary_units = 0
    if use_summary is not None:
        summary_units = sizer.text_units("system", summary_message(use_summary)["content"])
    covered_units = sum(units(m) for m in covered if is_sendable(m) and m.id not in pinned_set)
    full_units = base + covered_units + sum(turn_units)

    newest = turn_units[-1] if turn_units else 0
    if strategy != Strategy.OFF and sizer.tokens(base + newest) > available:
        what = "the newest message" if not pinned else "the pinned messages and the newest one"
        tokens = sizer.tokens(base + newest)

        def share(part: int) -> int:  # a part's tokens, in proportion (the parts add up)
            return round(tokens * part / max(base + newest, 1))

        raise ContextOverflow(tokens, budget, what, pinned=len(pinned),
                              pinned_tokens=share(pinned_units),
                              system_tokens=share(system_units))

    full = base + summary_units + sum(turn_units)
    to_summarize: list[Message] = []
    summary_dropped = False
    start = 0
    if strategy == Strategy.TRUNCATE:
        start = _newest_fitting(turn_units, base, available, sizer)
    elif strategy == Strategy.SUMMARIZE:
        if sizer.tokens(full) > trigger * available:
            remaining, cut = full, 0
            while cut < len(turn_units) - 1 and sizer.tokens(remaining) > target * available:
                remaining -= turn_units[cut]
                cut += 1
            to_summarize = [m for turn in pending_turns[:cut] for m in turn]
            if use_summary is not None:  # a turn the summary covers in part: fold the rest
                to_summarize = [m for m in to_summarize
                                if m.id > use_summary.last_message_id]
        if sizer.tokens(full) > available:
            if sizer.tokens(base + summary_units + newest) > available:
                use_summary, summary_units = None, 0  # the summary itself is too big
                summary_dropped = True
            start = _newest_fitting(turn_units, base + summary_units, available, sizer)

    # Older messages not sent: those the summary covers (dropped without it, if it was too
    # big), then whole turns cut by truncation; errors among them included; pins excepted.
    dropped = [m.id for m in covered if m.id not in pinned_set]
    for turn in turns[covered_turns:covered_turns + start]:
        dropped.extend(m.id for m in turn if m.id not in pinned_set)
    truncated = start > 0 or (summary_dropped and bool(covered))
    kept = [m for turn in pending_turns[start:] for m in turn]
    skipped_ids = [i for ids in skipped_by_turn[start:] for i in ids]
    if pinned:
        kept = sorted(pinned + kept, key=lambda m: m.id)

    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    if use_summary is not None:
        messages.append(summary_message(use_summary))
    messages.extend({"role": str(m.role), "content": m.content} for m in kept)
    sent_units = base + summary_units + sum(turn_units[start:])
    if sizer.exact:  # what calibration compares with: the local count of the same request
        local = REPLY_PRIMING + sum(sizer.text_local(m["role"], m["content"])
                                    for m in messages[:len(messages) - len(kept)])
        local += sum(sizer.local(m) for m in kept)
    else:  # the units are local counts already
        local = sent_units
    tokens = sizer.tokens(sent_units)
    return RequestPlan(
        messages=messages,
        tokens=tokens,
        sent_ids=[m.id for m in kept],
        dropped_ids=dropped,
        summary=use_summary,
        truncated=truncated,
        to_summarize=to_summarize,
        recounted=sizer.recounted,
        local_tokens=local,
        local_exact=sizer.counter.exact,
        skipped_ids=skipped_ids,
        pinned_ids=[m.id for m in pinned],
        full_tokens=sizer.tokens(full_units),
        available=available,
        over_budget=tokens > available,
    )
