"""The context meter: how full the next request would be, updated on every keystroke.

Everything that depends on the history is added up once (set_conversation, append), from
the stored counts; a keystroke only re-counts the draft, and only the chunks of it that
changed (DraftCounter). The verdict mirrors plan_request's rules without building a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui.core.context import (
    Budget,
    is_sendable,
    split_turns,
    stored_count,
    summary_message,
    turn_end_id,
)
from tui.core.models import Message, Role, Strategy, Summary
from tui.core.tokens import (
    MESSAGE_OVERHEAD,
    REPLY_PRIMING,
    DraftCounter,
    TokenCounter,
    apply_correction,
)

Action = Literal["none", "summarize", "truncate", "refuse"]


@dataclass
class MeterReading:
    tokens: int  # the request if the draft were sent now, corrected
    window: int
    reserved_output: int
    estimated: bool  # counts are estimates (no encoding loaded)
    action: Action  # what sending the draft would trigger
    available: int = 0  # additive: the prompt budget (window - reserved - margin)

    @property
    def fraction(self) -> float:
        """Share of the prompt budget used (can pass 1.0); what the bar shows."""
        room = self.available or max(1, self.window - self.reserved_output)
        return self.tokens / room


class ContextMeter:
    """Tracks one conversation's request size for the status bar."""

    def __init__(self, counter: TokenCounter, *, trigger: float = 0.8) -> None:
        self.counter = counter
        self.trigger = trigger
        self._draft = DraftCounter(counter)
        self._label = ""
        self._system_prompt = ""
        self._history: list[Message] = []
        self._summary: Summary | None = None
        self._budget = Budget(window=1, reserved_output=0, safety_margin=0)
        self._strategy = Strategy.SUMMARIZE
        self._correction = 0.0
        # Derived, refreshed by _recount when the history or the encoding changes.
        self._fixed = 0  # system prompt (+ summary in use) + reply priming
        self._older = 0  # every sent message before the newest user message's turn
        self._last_turn = 0  # the newest turn
        self._summary_tokens = 0  # the summary message, when the strategy uses it
        self._last_covered = False  # the summary covers the newest turn too
        self._counts: dict[str, int] = {}

    def set_conversation(self, *, system_prompt: str, history: list[Message],
                         summary: Summary | None, budget: Budget, strategy: Strategy,
                         correction: float = 0.0) -> None:
        """Load a conversation; its messages are counted here, once (stored counts reused)."""
        self._system_prompt = system_prompt
        self._history = list(history)
        self._summary = summary
        self._budget = budget
        self._strategy = Strategy(strategy)
        self._correction = correction
        self._counts = {}
        self._recount()

    def append(self, message: Message) -> None:
        """A message was added (sent or received): update the sums without a full pass."""
        self._history.append(message)
        if self.counter.encoding_label != self._label:
            self._recount()
            return
        if not is_sendable(message):
            return
        n = self._count(message)
        if message.role == Role.USER:
            self._older += 0 if self._last_covered else self._last_turn
            self._last_turn = n
            self._last_covered = self._covers(message)
        else:
            self._last_turn += n
            self._last_covered = self._last_covered and self._covers(message)

    def _covers(self, message: Message) -> bool:
        """Whether the summary in use covers ``message`` (so it is not sent)."""
        return self._summary_tokens > 0 and self._summary is not None and (
            message.id <= self._summary.last_message_id)

    def update_message(self, message: Message) -> None:
        """A stored message changed (a streamed reply finished): re-sum from counts."""
        self._history = [message if m.id == message.id else m for m in self._history]
        self._counts.pop(message.id, None)
        self._recount()

    def _count(self, message: Message) -> int:
        n = self._counts.get(message.id)
        if n is None:
            n = stored_count(message, self.counter)
            if n is None:
                n = self.counter.count_message(str(message.role), message.content)
            self._counts[message.id] = n
        return n

    def _recount(self) -> None:
        if self.counter.encoding_label != self._label:
            self._label = self.counter.encoding_label
            self._counts = {}
        turns = split_turns(self._history)
        use_summary = self._strategy == Strategy.SUMMARIZE and self._summary is not None
        # Unlike plan_request, the newest turn may be covered too: once a draft is sent it is
        # an older turn. Without a draft it is sent regardless (_last_covered is ignored).
        covered = 0
        if use_summary:
            assert self._summary is not None
            last_id = self._summary.last_message_id
            while covered < len(turns) and turn_end_id(turns[covered]) <= last_id:
                covered += 1
        sizes = [sum(self._count(m) for m in turn if is_sendable(m)) for turn in turns]
        fixed = REPLY_PRIMING
        if self._system_prompt:
            fixed += self.counter.count_message("system", self._system_prompt)
        self._summary_tokens = 0
        if use_summary:
            assert self._summary is not None
            self._summary_tokens = self.counter.count_message(
                "system", summary_message(self._summary)["content"])
        self._fixed = fixed
        self._older = sum(sizes[covered:-1])
        self._last_turn = sizes[-1] if sizes else 0
        self._last_covered = bool(turns) and covered == len(turns)

    def excess(self, draft: str) -> int:
        """Tokens by which ``draft`` overflows the window even after the strategy made room
        (0 when it can be sent): what a front end tells the user to cut."""
        reading = self.reading(draft)
        if reading.action != "refuse":
            return 0
        newest = MESSAGE_OVERHEAD + self.counter.count_text("user") + self._draft.update(draft)
        over = apply_correction(self._fixed + newest, self._correction) - reading.available
        if self._strategy == Strategy.OFF:
            over = max(over, reading.tokens - reading.available)
        return max(over, 1)

    def reading(self, draft: str = "") -> MeterReading:
        """The meter for the request that sending ``draft`` would make; cheap per keystroke."""
        if self.counter.encoding_label != self._label:
            self._recount()  # the encoding just loaded: counts become exact, once
        budget, correct = self._budget, self._correction
        available = budget.available
        if draft:
            user = MESSAGE_OVERHEAD + self.counter.count_text("user") + self._draft.update(draft)
            older = self._older + (0 if self._last_covered else self._last_turn)
            newest = user
        else:
            older, newest = self._older, self._last_turn
        base = self._fixed
        full = apply_correction(base + self._summary_tokens + older + newest, correct)
        action: Action = "none"
        if apply_correction(base + newest, correct) > available:
            action = "refuse"
        elif full > available and self._strategy == Strategy.OFF:
            action = "refuse"
        elif self._strategy == Strategy.TRUNCATE:
            action = "truncate" if full > available else "none"
        elif self._strategy == Strategy.SUMMARIZE:
            if full > self.trigger * available and older > 0:
                action = "summarize"
            if apply_correction(base + self._summary_tokens + newest, correct) > available:
                action = "truncate"  # the summary alone leaves no room: plan_request truncates
        return MeterReading(tokens=full, window=budget.window,
                            reserved_output=budget.reserved_output,
                            estimated=not self.counter.exact, action=action,
                            available=available)
