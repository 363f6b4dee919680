"""Pausing Python's cycle collector while big, garbage-free imports run.

Textual and the openai SDK (~700 pydantic models) allocate ~170k long-lived objects and no
garbage while they are imported: with the collector on, it runs a few hundred times for
nothing, a tenth to a sixth of the import's CPU (the SDK: 0.75 s -> 0.63 s).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection inside; the collector is left as it was found, and what exists
    when it comes back on is frozen (``gc.freeze``: never scanned again, still freed by
    reference counting). Process-wide: another thread's garbage waits too, and a cycle of
    garbage made meanwhile is kept (reference counting frees almost all of it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What the pause allocated is long-lived (modules, classes): frozen, the first
            # collection after it does not walk it all (~1 ms a collection in `ask`).
            gc.freeze()
            gc.enable()
