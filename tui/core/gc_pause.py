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
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """No cycle collection inside; the collector is left as it was found. Process-wide:
    another thread's garbage waits too (reference counting still frees almost all of it).

    ``freeze``: what exists when the collector comes back on is frozen (``gc.freeze``:
    never scanned again, still freed by reference counting; a cycle of garbage made
    meanwhile is kept). For start-up imports followed by more work: without it the first
    collection after the pause walks everything the pause imported (~1 ms a collection in
    ``ask``). The SDK's import in the running app does without: measured there, it made no
    difference worth the change (a 4k-token reply at 200 tok/s: ~28 young collections,
    78-112 ms, and no full one, with or without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if freeze:
                gc.freeze()
            gc.enable()
