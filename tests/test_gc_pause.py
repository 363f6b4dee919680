"""The collector pause (tui/core/gc_pause.py): no collection inside, the collector left as it
was found, and with ``freeze`` what the pause allocated kept out of later collections."""

from __future__ import annotations

import gc

import pytest

from tui.core.gc_pause import collector_paused


@pytest.fixture
def unfrozen():
    """Leave the test process's collector as it was: on, nothing frozen by the test."""
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was_enabled:
        gc.disable()


def test_no_collection_inside_and_the_collector_back_on(unfrozen) -> None:
    collections = sum(stat["collections"] for stat in gc.get_stats())
    with collector_paused():
        assert not gc.isenabled()
        garbage = [[] for _ in range(50_000)]  # far past the youngest generation's threshold
        assert sum(stat["collections"] for stat in gc.get_stats()) == collections
    assert gc.isenabled()
    assert garbage


def test_a_paused_collector_stays_paused(unfrozen) -> None:
    gc.disable()
    with collector_paused(freeze=True):
        pass
    assert not gc.isenabled()
    gc.enable()


def test_freeze_keeps_what_the_pause_allocated_out_of_later_collections(unfrozen) -> None:
    gc.collect()
    gc.unfreeze()
    before = gc.get_freeze_count()
    with collector_paused():
        kept = [[] for _ in range(10_000)]
    assert gc.get_freeze_count() == before, "no freeze unless asked"
    with collector_paused(freeze=True):
        kept += [[] for _ in range(10_000)]
    assert gc.get_freeze_count() >= before + 20_000  # both batches: all that was tracked
    assert gc.get_count()[0] < 1_000, "the next young collection has nothing of them to walk"
