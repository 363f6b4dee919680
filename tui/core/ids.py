"""ULIDs: 26-character, time-sortable ids, so ``ORDER BY id`` is creation order.

A ULID is a 48-bit millisecond timestamp followed by 80 random bits, written in Crockford
base32. Within one process ids are strictly increasing even inside the same millisecond (the
random part is incremented), which is what lets the store order messages by id alone.
"""

from __future__ import annotations

import os
import re
import threading
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_LENGTH = 26
ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")

_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def encode(ms: int, random: int) -> str:
    """Encode a timestamp (ms since the epoch) and an 80-bit random part as a ULID."""
    if not 0 <= ms < (1 << 48):
        raise ValueError(f"timestamp out of range: {ms}")
    value = (ms << _RANDOM_BITS) | (random & _RANDOM_MAX)
    chars = []
    for _ in range(ULID_LENGTH):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def timestamp_ms(ulid: str) -> int:
    """The millisecond timestamp inside a ULID."""
    value = 0
    for char in ulid[:10].upper():
        value = (value << 5) | ALPHABET.index(char)
    return value


def new_ulid(ms: int | None = None) -> str:
    """A fresh ULID, greater than every other one this process made.

    ``ms`` overrides the clock (bulk generators use it to spread ids over time); a value
    earlier than the last one used is clamped so the ordering promise still holds.
    """
    global _last_ms, _last_random
    now = int(time.time() * 1000) if ms is None else ms
    with _lock:
        if now <= _last_ms:
            now = _last_ms
            random = _last_random + 1
            if random > _RANDOM_MAX:  # 2**80 ids in one millisecond: borrow the next one
                now += 1
                random = int.from_bytes(os.urandom(10), "big") >> 1
        else:
            # Keep the top bit clear so increments within a millisecond cannot overflow.
            random = int.from_bytes(os.urandom(10), "big") >> 1
        _last_ms, _last_random = now, random
    return encode(now, random)


def is_ulid(text: str) -> bool:
    return bool(ULID_RE.match(text))
