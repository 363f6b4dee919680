"""The redraw schedule of a streaming reply (tui/ui/widgets/stream_pace.py): pure timing."""

from __future__ import annotations

import pytest

from tui.ui.widgets.stream_pace import FramePacer

INTERVAL = 0.04


def test_updates_follow_the_interval_while_the_credit_lasts() -> None:
    pacer = FramePacer()
    pacer.earn(10.0)
    assert pacer.due(10.0, INTERVAL) <= 10.0, "the first words show at once"
    pacer.started(10.0)
    pacer.spent(0.01, 0.005, INTERVAL)
    pacer.earn(10.01)
    assert pacer.due(10.01, INTERVAL) == pytest.approx(10.0 + INTERVAL)


def test_a_spent_credit_waits_for_text_to_pay_or_to_grow_stale() -> None:
    pacer = FramePacer(token_budget=0.001, max_stale=0.3)
    pacer.started(0.0)
    pacer.spent(0.02, pacer.credit + 0.003, INTERVAL)  # this redraw overspent by 3 ms
    pacer.earn(0.05)
    assert pacer.credit < 0
    assert pacer.due(0.05, INTERVAL) == pytest.approx(0.3), "max_stale after the last redraw"
    for n in range(3):  # three more deltas pay the debt back
        pacer.earn(0.06 + n / 100)
    assert pacer.credit >= 0
    assert pacer.due(0.08, INTERVAL) == pytest.approx(INTERVAL)


def test_text_after_a_quiet_spell_shows_at_once_even_in_debt() -> None:
    """In debt, a redraw waits ``max_stale`` after the last one or after the oldest unshown
    text came, whichever is sooner: a slow stream read twice a second shows each read as it
    comes (it waited another half second), and still no more often than that."""
    pacer = FramePacer(token_budget=0.0001, max_stale=0.5)
    pacer.started(0.0)
    pacer.spent(0.01, pacer.credit + 0.005, INTERVAL)
    pacer.earn(0.5)  # the next read, half a second later
    assert pacer.credit < 0
    assert pacer.due(0.5, INTERVAL) == pytest.approx(0.5), "shown as it comes"
    pacer.started(0.5)
    pacer.earn(0.6)  # text soon after a redraw waits for max_stale after that redraw
    assert pacer.due(0.6, INTERVAL) == pytest.approx(1.0)


def test_per_token_redraw_time_is_bounded_by_the_budget() -> None:
    """However slow the stream, redraws cost at most what its deltas earn (plus the cap),
    apart from the max_stale bound."""
    pacer = FramePacer(token_budget=0.0003, credit_cap=0.03, max_stale=10.0)
    cost, now, spent, deltas = 0.012, 0.0, 0.0, 0
    for _ in range(2000):  # 20 tok/s: one delta every 50 ms, a redraw costs 12 ms
        now += 0.05
        pacer.earn(now)
        deltas += 1
        if pacer.due(now, INTERVAL) <= now:
            pacer.started(now)
            pacer.spent(cost, cost, INTERVAL)
            spent += cost
    assert spent <= deltas * pacer.token_budget + pacer.credit_cap + cost


def test_credit_saved_is_capped() -> None:
    pacer = FramePacer(credit_cap=0.01, token_budget=0.004)
    for n in range(10):
        pacer.earn(n)
    assert pacer.credit == pytest.approx(0.01)


def test_unpaced_interval_means_at_once() -> None:
    pacer = FramePacer()
    pacer.started(5.0)
    pacer.spent(1.0, 1.0, 0)
    pacer.earn(5.001)
    assert pacer.due(5.001, 0) == 5.001


def test_a_delta_earns_by_its_length() -> None:
    """The client hands on a socket read's text as one delta: four tokens' worth of text
    earns as much as four one-token deltas (and a short delta a token's worth)."""
    one, four, short = FramePacer(), FramePacer(), FramePacer()
    for pacer in (one, four, short):
        pacer.credit = 0.0
    for _ in range(4):
        one.earn(1.0, 4)
    four.earn(1.0, 16)
    short.earn(1.0, 1)
    assert four.credit == pytest.approx(one.credit) == pytest.approx(4 * one.token_budget)
    assert short.credit == pytest.approx(one.token_budget)
