"""The context meter agrees with the planner, and a keystroke only costs the draft."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_context import chat, exact_counter, make, make_summary, words
from tui.core.context import Budget, ContextOverflow, budget_for, plan_request
from tui.core.meter import ContextMeter, MeterReading
from tui.core.models import Message, MessageStatus, Role, Strategy, Summary
from tui.core.tokens import TokenCounter


def meter_for(history: list[Message], budget: Budget, strategy: Strategy = Strategy.SUMMARIZE,
              summary: Summary | None = None, correction: float = 0.0,
              counter: TokenCounter | None = None) -> ContextMeter:
    meter = ContextMeter(counter or exact_counter())
    meter.set_conversation(system_prompt="You are terse.", history=history, summary=summary,
                           budget=budget, strategy=strategy, correction=correction)
    return meter


def planned(history: list[Message], draft: str, budget: Budget, strategy: Strategy,
            summary: Summary | None = None, correction: float = 0.0) -> tuple[str, int | None]:
    """What plan_request does if the draft is sent: (action, full request tokens)."""
    with_draft = history + [make(999_999, Role.USER, draft)] if draft else history
    try:
        result = plan_request(system_prompt="You are terse.", history=with_draft,
                              summary=summary, budget=budget, strategy=strategy,
                              counter=exact_counter(), correction=correction)
    except ContextOverflow:
        return "refuse", None
    tokens = result.tokens  # the meter shows what the strategy sends
    if result.over_budget:
        return "over", tokens
    if result.to_summarize:
        return "summarize", tokens
    if result.truncated:
        return "truncate", tokens
    return "none", tokens


def test_reading_matches_plan_when_everything_fits() -> None:
    history = chat(5, 50)
    budget = budget_for(128_000, None)
    meter = meter_for(history, budget)
    reading = meter.reading("What about the second option?")
    action, tokens = planned(history, "What about the second option?", budget,
                             Strategy.SUMMARIZE)
    assert (reading.action, reading.tokens) == (action, tokens) == ("none", tokens)
    assert reading.window == 128_000 and reading.reserved_output == 4096
    assert reading.available == budget.available and not reading.estimated
    assert reading.fraction == pytest.approx(reading.tokens / budget.available)
    empty = meter.reading("")
    assert empty.tokens == planned(history, "", budget, Strategy.SUMMARIZE)[1]


def test_fraction_without_available_uses_window_minus_reserve() -> None:
    reading = MeterReading(tokens=500, window=2000, reserved_output=1000, estimated=True,
                           action="none")
    assert reading.fraction == 0.5


@pytest.mark.parametrize("strategy, expected", [
    (Strategy.SUMMARIZE, "summarize"), (Strategy.TRUNCATE, "truncate"), (Strategy.OFF, "over"),
])
def test_actions_per_strategy(strategy: Strategy, expected: str) -> None:
    history = chat(30, 100)
    budget = budget_for(4096, None)
    reading = meter_for(history, budget, strategy).reading("one more")
    assert reading.action == expected == planned(history, "one more", budget, strategy)[0]
    # The bar shows what is sent, over the prompt budget; the whole conversation apart.
    assert reading.full > budget.available
    if strategy == Strategy.OFF:  # off sends everything: the server will have its say
        assert reading.tokens == reading.full and reading.fraction > 1.0
    else:
        assert reading.tokens < reading.full and reading.fraction <= 1.0


def test_a_draft_too_big_for_the_window_is_refused() -> None:
    meter = meter_for(chat(1, 10), budget_for(2048, None))
    assert meter.reading("short").action == "none"
    assert meter.reading(words(3000)).action == "refuse"


def test_a_refusal_says_how_much_of_it_is_pins_and_system_prompt() -> None:
    """Pinned messages are sent whatever the strategy does: a short draft after enough pins
    is refused, and the reading says the pins are what fills the window."""
    history = chat(4, 150)
    for message in history:
        message.pinned = True
    budget = budget_for(2048, 512)
    meter = meter_for(history, budget)
    reading = meter.refusal("one more short question?")
    assert reading is not None and reading.action == "refuse"
    assert reading.pinned == 8
    # the pins are nearly all of it; the system prompt ("You are terse.") a few tokens
    assert reading.tokens - 40 < reading.pinned_tokens < reading.tokens
    assert 0 < reading.system_tokens < 20
    assert reading.tokens > reading.available
    # unpinned, the same draft goes (the strategy makes room)
    for message in history:
        message.pinned = False
    assert meter_for(history, budget).refusal("one more short question?") is None
    # a draft too big on its own has no pins to blame
    alone = meter_for(chat(1, 10), budget).refusal(words(3000))
    assert alone is not None and alone.pinned == alone.pinned_tokens == 0
    assert alone.earlier == 2, "the chat's messages before the draft (the notice's words)"
    assert meter_for([], budget).refusal(words(3000)).earlier == 0


@pytest.mark.parametrize("strategy, expected", [
    (Strategy.SUMMARIZE, "summarize"), (Strategy.TRUNCATE, "truncate"),
])
def test_a_last_reply_too_big_to_resend_is_not_a_refusal(strategy: Strategy,
                                                          expected: str) -> None:
    """A reply that filled a small window on its own (llama.cpp's 2,048-token slot): with the
    composer empty the meter read it as the newest message, too big to send ("2.4k / 2k",
    in red), though any send summarizes or drops it and goes through."""
    history = [make(0, Role.USER, "Write a very long story."),
               make(1, Role.ASSISTANT, words(3000))]
    meter = meter_for(history, budget_for(2048, 512), strategy)
    empty = meter.reading("")
    assert empty.action == expected == planned(history, "and then?", budget_for(2048, 512),
                                               strategy)[0]
    assert empty.tokens <= empty.available < empty.full
    assert meter.reading("and then?").action == expected
    # A user message too big on its own is still refused.
    assert meter_for(history[:1] + [make(1, Role.USER, words(3000))],
                     budget_for(2048, 512), strategy).reading("").action == "refuse"


def test_summary_and_correction_are_reflected() -> None:
    history = chat(13, 100)
    budget = budget_for(8192, None)
    summary = make_summary("000007")
    with_summary = meter_for(history, budget, summary=summary).reading("next")
    assert (with_summary.action, with_summary.tokens) == planned(
        history, "next", budget, Strategy.SUMMARIZE, summary)
    corrected = meter_for(history, budget, summary=summary, correction=1.5).reading("next")
    assert corrected.tokens == planned(history, "next", budget, Strategy.SUMMARIZE, summary,
                                       1.5)[1]
    assert corrected.tokens > with_summary.tokens


def test_append_matches_a_fresh_load() -> None:
    history = chat(4, 30)
    budget = budget_for(8192, None)
    meter = meter_for(history[:2], budget)
    for message in history[2:]:
        meter.append(message)
    meter.append(make(50, Role.ASSISTANT, "failed", MessageStatus.ERROR))
    fresh = meter_for(history, budget)
    assert meter.reading("x") == fresh.reading("x")
    assert meter.reading() == fresh.reading()


def test_update_message_after_streaming() -> None:
    history = chat(2, 10) + [make(10, Role.ASSISTANT, "", MessageStatus.STREAMING)]
    budget = budget_for(8192, None)
    meter = meter_for(history, budget)
    before = meter.reading().tokens
    done = make(10, Role.ASSISTANT, words(200))
    meter.update_message(done)
    assert meter.reading().tokens == meter_for(history[:-1] + [done], budget).reading().tokens
    assert meter.reading().tokens > before


def test_history_counted_once_then_keystrokes_count_only_the_draft() -> None:
    class Spy(TokenCounter):
        def __init__(self) -> None:
            super().__init__("gpt-4o")
            self.texts: list[str] = []

        def count_text(self, text: str) -> int:
            self.texts.append(text)
            return super().count_text(text)

    spy = Spy()
    assert spy.load_blocking()
    history = chat(20, 50)
    for message in history[::2]:
        message.token_count = None  # these must be counted, once
    meter = meter_for(history, budget_for(128_000, None), counter=spy)
    meter.reading()
    counted = [t for t in spy.texts if t in {m.content for m in history}]
    assert len(counted) == 20
    spy.texts.clear()
    for end in range(1, 30):
        meter.reading("typing a message"[:end])
    assert all(len(t) <= 16 for t in spy.texts)  # drafts (and role names) only


def test_estimated_until_the_encoding_loads(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    shared = os.environ["TIKTOKEN_CACHE_DIR"]
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    counter = TokenCounter("gpt-4o")
    assert not counter.load_blocking()
    history = chat(3, 40)
    for message in history:
        message.token_count, message.token_encoding = None, None
    budget = budget_for(8192, None)
    meter = meter_for(history, budget, counter=counter)
    estimated = meter.reading("hello there")
    assert estimated.estimated
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(shared))
    assert counter.load_blocking()
    exact = meter.reading("hello there")
    assert not exact.estimated
    assert exact.tokens == planned(history, "hello there", budget, Strategy.SUMMARIZE)[1]
    assert exact.tokens != estimated.tokens


@settings(max_examples=60, deadline=None)
@given(turns=st.integers(0, 25), size=st.integers(5, 200), draft_words=st.integers(0, 900),
       window=st.sampled_from([2048, 4096, 8192]), strategy=st.sampled_from(list(Strategy)),
       summarized=st.integers(-1, 10), correction=st.sampled_from([0.0, 1.2]))
def test_meter_agrees_with_planner(turns: int, size: int, draft_words: int, window: int,
                                   strategy: Strategy, summarized: int,
                                   correction: float) -> None:
    history = chat(turns, size)
    summary = make_summary(f"{summarized:06d}") if 0 <= summarized < 2 * turns else None
    budget = budget_for(window, None)
    draft = words(draft_words, "d")  # one line: the draft count is exact
    reading = meter_for(history, budget, strategy, summary, correction).reading(draft)
    action, tokens = planned(history, draft, budget, strategy, summary, correction)
    assert reading.action == action
    if tokens is not None:
        assert reading.tokens == tokens
