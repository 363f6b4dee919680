"""The list's relative times, and when each next reads differently (the list's re-timing)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tui.ui.widgets.relative_time import relative_time, seconds_until_change

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=timezone.utc)


def stamp(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.mark.parametrize("ago, wait", [
    (timedelta(seconds=10), 50), (timedelta(minutes=5, seconds=20), 40),
    (timedelta(hours=2, minutes=30), 1800), (timedelta(days=3), 12 * 3600),
])
def test_each_reading_lasts_until_the_next_one(ago, wait):
    text = stamp(ago)
    assert seconds_until_change(text, NOW) == pytest.approx(wait)
    before = relative_time(text, NOW + timedelta(seconds=wait - 0.5))
    after = relative_time(text, NOW + timedelta(seconds=wait + 0.5))
    assert before == relative_time(text, NOW) and after != before


def test_an_unreadable_stamp_never_changes():
    assert seconds_until_change("not a time", NOW) is None
    assert relative_time("not a time", NOW) == ""
