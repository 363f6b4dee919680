"""ULIDs: format, time order, and strict monotonicity within one process."""

from __future__ import annotations

import threading

from tui.core import ids


def test_format_and_timestamp_round_trip() -> None:
    ulid = ids.encode(1_700_000_000_123, 12345)
    assert len(ulid) == 26 and ids.is_ulid(ulid)
    assert ids.timestamp_ms(ulid) == 1_700_000_000_123
    assert ids.encode(0, 0) == "0" * 26
    assert ids.encode((1 << 48) - 1, (1 << 80) - 1) == "7" + "Z" * 25


def test_monotonic_within_a_millisecond_and_when_the_clock_goes_back() -> None:
    made = [ids.new_ulid() for _ in range(2000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    later = ids.new_ulid(ms=ids.timestamp_ms(made[-1]) - 10_000)  # clock went backwards
    assert later > made[-1]


def test_unique_across_threads() -> None:
    out: list[list[str]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        out[i].extend(ids.new_ulid() for _ in range(500))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [u for chunk in out for u in chunk]
    assert len(set(everything)) == 2000
    assert all(chunk == sorted(chunk) for chunk in out)


def test_is_ulid_rejects_other_text() -> None:
    assert not ids.is_ulid("hello")
    assert not ids.is_ulid("8" + "0" * 25)  # beyond 48-bit time
    assert not ids.is_ulid("0" * 25 + "U")  # U is not Crockford base32
