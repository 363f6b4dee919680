"""Request planning: budgets, the three strategies, summaries, and their invariants."""

from __future__ import annotations

import functools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.context import (
    SUMMARY_PREFIX,
    Budget,
    ContextOverflow,
    RequestPlan,
    budget_for,
    is_sendable,
    plan_request,
)
from tui.core.summary_plan import (
    ends_message,
    plan_summary_chunks,
    summary_budget,
    summary_prompt,
)
from tui.core.models import Message, MessageStatus, Role, Strategy, Summary
from tui.core.tokens import REPLY_PRIMING, TokenCounter


def corrected(tokens: int, correction: float) -> int:
    """The oracle for a stored per-chat ratio: none (0.0) or 1.0 leaves the count alone,
    anything else scales it, rounded up."""
    ratio = correction if correction > 0 else 1.0
    return tokens if ratio == 1.0 else math.ceil(tokens * ratio)


@functools.cache
def exact_counter() -> TokenCounter:
    counter = TokenCounter("gpt-4o")
    assert counter.load_blocking()
    return counter


def make(i: int, role: Role, content: str, status: MessageStatus = MessageStatus.COMPLETE,
         *, stored: bool = True) -> Message:
    message = Message(id=f"{i:06d}", conversation_id="c", role=role, content=content,
                      status=status)
    if stored:
        counter = exact_counter()
        message.token_count = counter.count_message(str(role), content)
        message.token_encoding = counter.encoding_label
    return message


def words(n: int, tag: str = "w") -> str:
    return " ".join(f"{tag}{i % 97}" for i in range(n))


def chat(turns: int, size: int = 100) -> list[Message]:
    """``turns`` user/assistant pairs of about ``size`` words each, ids in order."""
    history: list[Message] = []
    for t in range(turns):
        history.append(make(2 * t, Role.USER, f"question {t}: " + words(size, "q")))
        history.append(make(2 * t + 1, Role.ASSISTANT, f"answer {t}: " + words(size, "a")))
    return history


def request_count(plan: RequestPlan) -> int:
    """The plan's messages counted from scratch with OpenAI's rule."""
    counter = exact_counter()
    return sum(counter.count_message(m["role"], m["content"]) for m in plan.messages) + REPLY_PRIMING


def plan(history: list[Message], budget: Budget, strategy: Strategy = Strategy.SUMMARIZE,
         summary: Summary | None = None, system_prompt: str = "You are terse.",
         **kwargs: float) -> RequestPlan:
    return plan_request(system_prompt=system_prompt, history=history, summary=summary,
                        budget=budget, strategy=strategy, counter=exact_counter(), **kwargs)


def make_summary(last_id: str, content: str = "They discussed the plan.") -> Summary:
    return Summary(id="s1", conversation_id="c", content=content, first_message_id="000000",
                   last_message_id=last_id, covered_count=int(last_id) + 1)


# --- budgets --------------------------------------------------------------------------------

def test_budget_for() -> None:
    big = budget_for(128_000, None)
    assert (big.reserved_output, big.safety_margin, big.available) == (4096, 1280, 122_624)
    small = budget_for(4096, None)
    assert (small.reserved_output, small.safety_margin) == (1024, 40)
    assert budget_for(128_000, 16_384).reserved_output == 16_384
    assert budget_for(8192, 10_000).reserved_output == 6144  # capped: a prompt must still fit
    assert budget_for(1000, None).safety_margin == 16
    assert budget_for(0, None).available == 0


# --- basics ---------------------------------------------------------------------------------

@pytest.mark.parametrize("strategy", list(Strategy))
def test_small_conversation_is_sent_whole(strategy: Strategy) -> None:
    history = chat(3, 20)
    result = plan(history, budget_for(128_000, None), strategy)
    assert result.messages[0] == {"role": "system", "content": "You are terse."}
    assert result.sent_ids == [m.id for m in history]
    assert [m["content"] for m in result.messages[1:]] == [m.content for m in history]
    assert not result.truncated and not result.dropped_ids and not result.to_summarize
    assert result.tokens == result.local_tokens == request_count(result)
    assert result.recounted == {}


def test_no_system_prompt() -> None:
    result = plan(chat(1, 5), budget_for(8192, None), system_prompt="")
    assert result.messages[0]["role"] == "user"


def test_errors_and_empty_replies_are_never_sent() -> None:
    history = [
        make(0, Role.USER, "first"),
        make(1, Role.ASSISTANT, "", MessageStatus.INTERRUPTED),  # interrupted with nothing
        make(2, Role.ASSISTANT, "boom", MessageStatus.ERROR),
        make(3, Role.USER, "second"),
        make(4, Role.ASSISTANT, "half an ans", MessageStatus.INTERRUPTED),  # sent as it is
        make(5, Role.USER, "third"),
    ]
    result = plan(history, budget_for(8192, None))
    assert result.sent_ids == ["000000", "000003", "000004", "000005"]
    assert result.skipped_ids == ["000001", "000002"]
    assert {"role": "assistant", "content": "half an ans"} in result.messages
    assert result.tokens == request_count(result)


def test_stored_counts_are_trusted_and_others_recounted() -> None:
    history = chat(2, 10)
    history[0].token_count = 5000  # deliberately wrong: proves the stored figure is used
    history[1].token_count, history[1].token_encoding = None, None
    history[2].token_encoding = "cl100k_base"
    history[3].token_encoding = "estimate"
    result = plan(history, budget_for(128_000, None))
    counter = exact_counter()
    assert set(result.recounted) == {"000001", "000002", "000003"}
    assert result.recounted["000001"] == counter.count_message("assistant", history[1].content)
    assert result.tokens == request_count(result) - counter.count_message(
        "user", history[0].content) + 5000


def test_estimating_counter_keeps_exact_stored_counts(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    estimating = TokenCounter("gpt-4o")
    assert not estimating.load_blocking()
    history = chat(3, 30)
    history[-1].token_count = None
    result = plan_request(system_prompt="", history=history, summary=None,
                          budget=budget_for(8192, None), strategy=Strategy.SUMMARIZE,
                          counter=estimating)
    assert list(result.recounted) == [history[-1].id]  # not the whole history


def test_correction_scales_totals_and_triggers_earlier() -> None:
    history = chat(9, 100)
    budget = budget_for(8192, None)
    plain = plan(history, budget)
    corrected = plan(history, budget, correction=1.5)
    assert plain.local_tokens == corrected.local_tokens
    assert corrected.tokens == math.ceil(plain.local_tokens * 1.5)
    assert not plain.to_summarize and corrected.to_summarize


# --- overflow -------------------------------------------------------------------------------

@pytest.mark.parametrize("strategy", [Strategy.SUMMARIZE, Strategy.TRUNCATE])
def test_newest_message_too_big_raises_with_numbers(strategy: Strategy) -> None:
    history = chat(2, 10) + [make(9, Role.USER, words(3000))]
    budget = budget_for(2048, None)
    with pytest.raises(ContextOverflow) as caught:
        plan(history, budget, strategy)
    error = caught.value
    assert error.tokens > budget.available and error.window == 2048
    assert f"{error.tokens:,}" in str(error) and "2,048" in str(error)


def test_off_sends_everything_and_never_refuses() -> None:
    history = chat(10, 100)
    fits = plan(history, budget_for(128_000, None), Strategy.OFF)
    assert fits.sent_ids == [m.id for m in history] and not fits.truncated
    assert not fits.over_budget
    # Off means off: over the budget it is still sent whole; the server has the last word.
    over = plan(history, budget_for(2048, None), Strategy.OFF)
    assert over.sent_ids == fits.sent_ids and over.over_budget
    assert over.tokens > budget_for(2048, None).available
    huge = plan(chat(2, 10) + [make(9, Role.USER, words(3000))], budget_for(2048, None),
                Strategy.OFF)
    assert huge.over_budget and huge.sent_ids[-1] == "000009"


def test_off_ignores_summaries() -> None:
    history = chat(4, 10)
    result = plan(history, budget_for(128_000, None), Strategy.OFF,
                  summary=make_summary("000003"))
    assert result.summary is None and result.sent_ids == [m.id for m in history]


# --- truncate -------------------------------------------------------------------------------

def test_truncate_drops_oldest_whole_turns() -> None:
    history = chat(20, 100)
    budget = budget_for(4096, None)
    result = plan(history, budget, Strategy.TRUNCATE)
    assert result.truncated and result.summary is None
    assert result.tokens <= budget.available == result.tokens + (budget.available - result.tokens)
    assert result.dropped_ids == [m.id for m in history[:len(result.dropped_ids)]]
    assert result.sent_ids == [m.id for m in history[len(result.dropped_ids):]]
    assert result.messages[1]["role"] == "user"  # a whole turn: no answer without its question
    # the next older turn would not have fitted
    older = history[len(result.dropped_ids) - 2: len(result.dropped_ids)]
    extra = sum(m.token_count or 0 for m in older)
    assert result.tokens + extra > budget.available


# --- summarize ------------------------------------------------------------------------------

def test_below_trigger_nothing_is_summarized() -> None:
    history = chat(8, 100)
    budget = budget_for(8192, None)
    result = plan(history, budget)
    assert result.tokens <= 0.8 * budget.available
    assert result.tokens > 0.5 * budget.available  # there would be stuff to fold, but no need
    assert result.to_summarize == [] and not result.truncated


def test_above_trigger_selects_oldest_turns_down_to_target() -> None:
    history = chat(13, 100)
    budget = budget_for(8192, None)
    result = plan(history, budget)
    assert result.tokens > 0.8 * budget.available
    chosen = result.to_summarize
    assert chosen and [m.id for m in chosen] == [m.id for m in history[:len(chosen)]]
    assert len(chosen) % 2 == 0  # whole turns
    rest = sum(m.token_count or 0 for m in history[len(chosen):])
    base = result.tokens - sum(m.token_count or 0 for m in history)
    assert base + rest <= 0.5 * budget.available
    # and one turn fewer would not have reached the target
    assert base + rest + sum(m.token_count or 0 for m in chosen[-2:]) > 0.5 * budget.available
    assert not result.truncated  # still fits: sent whole if summarizing fails


def test_summary_replaces_covered_messages() -> None:
    history = chat(13, 100)
    budget = budget_for(8192, None)
    summary = make_summary("000007", "They settled on plan B; see function load_config().")
    result = plan(history, budget, summary=summary)
    assert result.summary is summary
    assert result.messages[1] == {"role": "system",
                                  "content": SUMMARY_PREFIX + summary.content}
    assert result.dropped_ids == [f"{i:06d}" for i in range(8)]
    assert result.sent_ids == [m.id for m in history[8:]]
    assert not result.truncated and result.to_summarize == []
    assert result.tokens == request_count(result)


def test_summary_covering_a_turn_with_trailing_error() -> None:
    history = [make(0, Role.USER, "a"), make(1, Role.ASSISTANT, "b"),
               make(2, Role.ASSISTANT, "", MessageStatus.ERROR), make(3, Role.USER, "c")]
    result = plan(history, budget_for(8192, None), summary=make_summary("000001"))
    assert result.sent_ids == ["000003"]
    assert result.dropped_ids == ["000000", "000001", "000002"]


def test_summary_never_covers_the_newest_user_message() -> None:
    history = chat(2, 5) + [make(9, Role.USER, "newest")]
    result = plan(history, budget_for(8192, None), summary=make_summary("000009"))
    assert result.sent_ids == ["000009"]


def test_huge_summary_falls_back_to_truncation() -> None:
    history = chat(6, 100)
    budget = budget_for(4096, None)
    summary = make_summary("000003", words(2500))
    result = plan(history, budget, summary=summary)
    assert result.summary is None and result.truncated
    assert all(m["content"] != SUMMARY_PREFIX + summary.content for m in result.messages)
    assert result.tokens <= budget.available
    assert history[-1].id in result.sent_ids


def test_over_budget_summarize_plan_is_still_a_valid_request() -> None:
    history = chat(30, 100)
    budget = budget_for(4096, None)
    result = plan(history, budget)
    assert result.to_summarize and result.truncated
    assert result.tokens <= budget.available
    assert result.tokens == request_count(result)


# --- properties -----------------------------------------------------------------------------

ROLES = st.sampled_from([Role.USER, Role.USER, Role.ASSISTANT, Role.ASSISTANT, Role.SYSTEM])
STATUSES = st.sampled_from([MessageStatus.COMPLETE] * 4 + [MessageStatus.INTERRUPTED,
                                                           MessageStatus.ERROR])
MESSAGE = st.tuples(ROLES, st.integers(0, 400), STATUSES, st.booleans())


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    specs = draw(st.lists(MESSAGE, max_size=40))
    history = [make(i, role, words(size, role.value[0]), status, stored=stored)
               for i, (role, size, status, stored) in enumerate(specs)]
    history.append(make(len(history), Role.USER, words(draw(st.integers(1, 300)), "n")))
    summary = None
    if history and draw(st.booleans()):
        last = draw(st.integers(0, len(history) - 1))
        summary = make_summary(f"{last:06d}", words(draw(st.integers(1, 600)), "s"))
    return {
        "history": history,
        "summary": summary,
        "budget": budget_for(draw(st.sampled_from([1024, 2048, 4096, 8192, 16_384])),
                             draw(st.sampled_from([None, 256, 1000]))),
        "strategy": draw(st.sampled_from(list(Strategy))),
        "correction": draw(st.sampled_from([0.0, 0.8, 1.0, 1.3])),
        "system_prompt": draw(st.sampled_from(["", "Be brief.", words(100, "p")])),
    }


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_plan_invariants(case: dict) -> None:
    history: list[Message] = case["history"]
    budget: Budget = case["budget"]
    try:
        result = plan(history, budget, case["strategy"], summary=case["summary"],
                      system_prompt=case["system_prompt"], correction=case["correction"])
    except ContextOverflow as error:
        assert case["strategy"] != Strategy.OFF  # off never refuses
        assert error.tokens > budget.available
        assert str(budget.window) in str(error).replace(",", "")
        return
    # fits (off: sent anyway, and says so), and the count is honest
    assert result.local_tokens == request_count(result)
    assert result.tokens == corrected(result.local_tokens, case["correction"])
    assert result.over_budget == (result.tokens > budget.available)
    assert result.tokens <= budget.available or case["strategy"] == Strategy.OFF
    # system prompt first, newest user message kept, order preserved, errors never sent
    if case["system_prompt"]:
        assert result.messages[0] == {"role": "system", "content": case["system_prompt"]}
    assert history[-1].id in result.sent_ids
    assert result.messages[-1]["content"] == history[-1].content
    index = {m.id: i for i, m in enumerate(history)}
    positions = [index[i] for i in result.sent_ids]
    assert positions == sorted(positions)
    by_id = {m.id: m for m in history}
    assert all(is_sendable(by_id[i]) for i in result.sent_ids)
    # every stored message is accounted for exactly once
    groups = [result.sent_ids, result.dropped_ids, result.skipped_ids]
    assert sorted(i for g in groups for i in g) == sorted(index)
    # dropped = older than what is sent
    if result.dropped_ids and result.sent_ids:
        assert max(index[i] for i in result.dropped_ids) < min(positions)
    # not truncated: whatever was dropped, the summary in the request covers
    if not result.truncated:
        for i in result.dropped_ids:
            assert (not is_sendable(by_id[i])
                    or (result.summary is not None and i <= result.summary.last_message_id))
    if case["strategy"] != Strategy.SUMMARIZE:
        assert result.summary is None and result.to_summarize == []
    if case["strategy"] == Strategy.OFF:
        assert not result.truncated and result.dropped_ids == []
    # what summarizing would fold is older than the newest turn and not yet covered
    for message in result.to_summarize:
        assert is_sendable(message) and index[message.id] < len(history) - 1
        if case["summary"] is not None:
            assert message.id > case["summary"].last_message_id


# --- summary requests -----------------------------------------------------------------------

def test_summary_prompt_folds_previous_and_skips_errors() -> None:
    messages = [make(0, Role.USER, "Use load_config() from settings.py"),
                make(1, Role.ASSISTANT, "oops", MessageStatus.ERROR),
                make(2, Role.ASSISTANT, "Done: renamed it to read_settings().")]
    previous = make_summary("000000", "Alice is porting the app to Python 3.11.")
    prompt = summary_prompt(messages, previous)
    assert [m["role"] for m in prompt] == ["system", "user"]
    instructions = prompt[0]["content"].lower()
    for keyword in ("concise", "decision", "name", "code identifier", "previous summary"):
        assert keyword in instructions
    body = prompt[1]["content"]
    assert previous.content in body
    assert "User: Use load_config() from settings.py" in body
    assert "Assistant: Done: renamed it to read_settings()." in body
    assert "oops" not in body
    clipped = summary_prompt([make(3, Role.USER, "x" * 500)], None, max_message_chars=100)
    assert "[... clipped: 400 more characters not shown]" in clipped[1]["content"]


def test_plan_summary_chunks_split_to_fit() -> None:
    messages = chat(40, 100)
    budget = budget_for(4096, None)
    chunks = plan_summary_chunks(messages, budget, exact_counter())
    assert len(chunks) > 1
    assert [m.id for chunk in chunks for m in chunk] == [m.id for m in messages]
    # each piece fits along with a running summary as long as the summarizer lets it be
    # (a quarter of the budget at most, as tui/core/summarize.py asks for)
    running = make_summary("000000", words(budget.available // 4 // 2 - 20))
    assert exact_counter().count_text(running.content) <= budget.available // 4
    for chunk in chunks:
        request = summary_prompt(chunk, running)
        size = sum(exact_counter().count_message(m["role"], m["content"]) for m in request)
        assert size + REPLY_PRIMING <= budget.available


def test_plan_summary_chunks_leave_room_for_a_big_previous_summary() -> None:
    messages = chat(40, 100)
    budget = budget_for(4096, None)
    previous = make_summary("000000", words(600))
    chunks = plan_summary_chunks(messages, budget, exact_counter(), previous=previous)
    first = summary_prompt(chunks[0], previous)
    size = sum(exact_counter().count_message(m["role"], m["content"]) for m in first)
    assert size + REPLY_PRIMING <= budget.available


def test_plan_summary_chunks_split_a_giant_message_into_parts() -> None:
    giant = make(1, Role.ASSISTANT, words(20_000, "g"))
    messages = [make(0, Role.USER, "paste this"), giant, make(2, Role.USER, "thanks")]
    budget = summary_budget(4096)
    chunks = plan_summary_chunks(messages, budget, exact_counter())
    ids = [[m.id for m in c] for c in chunks]
    assert ids[0] == ["000000"] and ids[-1] == ["000002"]
    parts = [c[0] for c in chunks[1:-1]]
    assert len(parts) >= 5 and all(ids_ == ["000001"] for ids_ in ids[1:-1])
    assert [p.part for p in parts] == list(range(1, len(parts) + 1))
    assert [ends_message(p) for p in parts] == [False] * (len(parts) - 1) + [True]
    # Nothing is lost: the parts (without their notes) are the message.
    text = "".join(p.content.split("\n", 1)[1] for p in parts)
    assert text == giant.content
    for part in parts:  # each request fits with room for its reply
        request = summary_prompt([part], None)
        size = sum(exact_counter().count_message(m["role"], m["content"]) for m in request)
        assert size + REPLY_PRIMING + budget.reserved_output <= budget.available + \
            budget.reserved_output


def test_a_summary_ending_mid_turn_is_not_folded_twice() -> None:
    history = chat(13, 100)
    budget = budget_for(8192, None)
    # a summary that stopped inside turn 0 (after its question): the turn is sent whole ...
    partial = make_summary("000000", "Asked about question 0.")
    result = plan(history, budget, summary=partial)
    assert result.sent_ids == [m.id for m in history] and result.dropped_ids == []
    # ... and the part already folded in is not asked to be summarized again
    assert result.to_summarize and all(m.id > "000000" for m in result.to_summarize)


def test_plan_summary_chunks_keep_turns_together() -> None:
    messages = chat(40, 100)
    chunks = plan_summary_chunks(messages, budget_for(4096, None), exact_counter())
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk[0].role == Role.USER and chunk[-1].role == Role.ASSISTANT
