"""The context meter: what the next request will send, next to the conversation's full size.

It asks the same planner the chat flow sends with (plan_request, the same Sizer), for the
history plus the draft, so the meter cannot disagree with the request: it shows what the
strategy will send (after summarizing or truncating), divided by the prompt budget, and the
whole conversation's size apart. A keystroke only re-counts the draft's changed chunks
(DraftCounter); the plan is redone when the draft's count changes, one pass of additions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from tui.core.context import (
    Budget,
    ContextOverflow,
    RequestPlan,
    plan_request,
    sizer_for,
    with_next_turn,
)
from tui.core.models import Message, Role, Strategy, Summary
from tui.core.sizing import Sizer
from tui.core.tokens import (
    MESSAGE_OVERHEAD,
    DraftCounter,
    TokenCounter,
    counts_may_matter,
    text_bytes,
)

# "over": strategy off and the request is bigger than the budget; it is sent anyway.
Action = Literal["none", "summarize", "truncate", "refuse", "over"]
DRAFT_ID = "~draft"  # sorts after every ULID: the newest message


@dataclass
class MeterReading:
    tokens: int  # what the next request sends (after the strategy), as the server counts
    window: int
    reserved_output: int
    estimated: bool  # counts are a heuristic (no encoding, no server counts)
    action: Action  # what sending the draft would trigger
    available: int = 0  # the prompt budget (window - reserved - margin)
    full: int = 0  # the whole conversation (nothing summarized or dropped)
    exact: bool = False  # counts come from the server's own tokenizer
    window_source: str = ""  # windows.WindowInfo.source
    # A refusal's parts besides the draft (the planner's ContextOverflow): pinned messages
    # (how many, their tokens) and the system prompt's tokens.
    pinned: int = 0
    pinned_tokens: int = 0
    system_tokens: int = 0
    earlier: int = 0  # a refusal's: messages in the chat before the draft

    @property
    def own_encoding(self) -> bool:
        """The window is OpenAI's table figure for the model, so the local encoding is the
        model's own: its counts (once loaded) are the server's, with nothing to calibrate."""
        return self.window_source == "table"

    @property
    def fraction(self) -> float:
        """Share of the prompt budget the next request uses (can pass 1.0): the bar."""
        room = self.available or max(1, self.window - self.reserved_output)
        return self.tokens / room


class ContextMeter:
    """Tracks one conversation's next request for the status bar."""

    def __init__(self, counter: TokenCounter, *, trigger: float = 0.8) -> None:
        self.counter = counter
        self.trigger = trigger
        self._draft = DraftCounter(counter)
        self._system_prompt = ""
        self._history: list[Message] = []
        self._summary: Summary | None = None
        self._budget = Budget(window=1, reserved_output=0, safety_margin=0)
        self._strategy = Strategy.SUMMARIZE
        self._sizer: Sizer = sizer_for(counter)
        self._window_source = ""
        self._beyond: Budget | None = None
        self._cache: tuple[object, MeterReading] | None = None
        self._stored_bytes = 0  # UTF-8 bytes of the system prompt, summary and history
        self.plan: RequestPlan | None = None  # the plan behind the last reading

    def set_conversation(self, *, system_prompt: str, history: list[Message],
                         summary: Summary | None, budget: Budget, strategy: Strategy,
                         correction: float = 0.0, sizer: Sizer | None = None,
                         window_source: str = "", beyond: Budget | None = None) -> None:
        """Load a conversation. ``sizer`` is the flow's (server counts, calibration); without
        one, local counts scaled by ``correction``. ``beyond``: the budget a turn too big for
        ``budget`` alone is planned with (the window is only a size the server took)."""
        self._system_prompt = system_prompt
        self._history = list(history)
        self._summary = summary
        self._budget = budget
        self._strategy = Strategy(strategy)
        self._sizer = sizer or sizer_for(self.counter, correction)
        self._window_source = window_source
        self._beyond = beyond
        self._cache = None
        self._stored_bytes = (text_bytes(system_prompt)
                              + (text_bytes(summary.content) if summary else 0)
                              + sum(text_bytes(m.content) for m in self._history))

    def extends(self, message: Message) -> bool:
        """Whether ``message`` continues the path metered (its parent is the last message).
        A regenerated reply or an edited, re-sent message starts a branch beside it: the
        path changed, and appending would count the replaced one too."""
        last = self._history[-1].id if self._history else None
        return message.parent_id == last

    def append(self, message: Message) -> None:
        """A message was added (sent or received) at the end of the path metered."""
        self._history.append(message)
        self._stored_bytes += text_bytes(message.content)
        self._cache = None

    def forget_reading(self) -> None:
        """Counts changed under the same draft (the server counted it): read anew."""
        self._cache = None

    def update_message(self, message: Message) -> None:
        """A stored message changed (a streamed reply finished)."""
        for index, old in enumerate(self._history):
            if old.id == message.id:
                self._stored_bytes += text_bytes(message.content) - text_bytes(old.content)
                self._history[index] = message
        self._sizer.forget(message.id)
        self._cache = None

    def counts_may_matter(self, draft: str = "") -> bool:
        """Whether sending ``draft`` comes near enough to the prompt budget for exact counts
        to be worth loading (tokens.EXACT_SHARE): bytes, not tokens, so it needs no count."""
        return counts_may_matter(self._stored_bytes + text_bytes(draft), self._budget.available)

    def refusal(self, draft: str) -> MeterReading | None:
        """The reading when sending ``draft`` would be refused (None when it can be sent).
        It is the request's smallest form (the planner's ContextOverflow): system prompt,
        pins and the draft, as the sizer counts them, with the pins' and the system prompt's
        parts, so the user is told which of them to cut."""
        reading = self.reading(draft)
        return reading if reading.action == "refuse" else None

    def reading(self, draft: str = "") -> MeterReading:
        """The meter for the request that sending ``draft`` would make; cheap per keystroke."""
        history = self._history
        draft_tokens = self._draft.update(draft) if draft else -1
        key = (draft_tokens, self.counter.encoding_label, len(history))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if draft:
            count = MESSAGE_OVERHEAD + self.counter.count_text("user") + draft_tokens
            history = history + [Message(
                id=f"{DRAFT_ID}{draft_tokens}", conversation_id="", role=Role.USER,
                content=draft, token_count=count, token_encoding=self.counter.encoding_label)]
        budget = self._budget

        def plan_for(history: list[Message]) -> RequestPlan:
            return plan_request(system_prompt=self._system_prompt, history=history,
                                summary=self._summary, budget=budget, strategy=self._strategy,
                                counter=self.counter, sizer=self._sizer, trigger=self.trigger)

        try:
            try:
                plan = plan_for(history)
            except ContextOverflow:
                if self._beyond is not None:
                    # A size the server took, not its window: the send plans a turn too big
                    # for it as with no window known (FlowPlanner._plan), and so does this.
                    budget = self._beyond
                    plan = plan_for(history)
                else:
                    # The composer is empty and the last reply alone is too big to resend:
                    # any send will summarize or drop it (see with_next_turn).
                    after_reply = with_next_turn(history, self.counter)
                    if after_reply is None:
                        raise
                    plan = plan_for(after_reply)
        except ContextOverflow as error:
            self.plan = None
            reading = replace(self._reading(error.tokens, error.tokens, "refuse"),
                              pinned=error.pinned, pinned_tokens=error.pinned_tokens,
                              system_tokens=error.system_tokens, earlier=len(self._history))
        else:
            self.plan = plan
            action: Action = "none"
            if plan.over_budget:
                action = "over"
            elif plan.to_summarize:
                action = "summarize"
            elif plan.truncated:
                action = "truncate"
            reading = self._reading(plan.tokens, plan.full_tokens, action)
        self._cache = (key, reading)
        return reading

    def _reading(self, tokens: int, full: int, action: Action) -> MeterReading:
        budget = self._budget
        return MeterReading(tokens=tokens, window=budget.window,
                            reserved_output=budget.reserved_output,
                            estimated=self._sizer.estimated, action=action,
                            available=budget.available, full=full, exact=self._sizer.exact,
                            window_source=self._window_source)
