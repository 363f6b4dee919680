"""Keep Python's cycle collector from pausing a streaming reply.

A Textual app holds a large, long-lived object graph (widgets, styles, compiled CSS). With
the default thresholds, a full collection walks all of it several times per long reply,
230-430 ms each on this class of machine; one landing after the last token is a visible
stall. Freezing what exists once the first frame is up moves that graph out of the
collector's way, and a larger first-generation threshold makes collections rarer while
reference counting still frees almost everything. Measured with ``bench/bench_app.py``.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def raise_gen0_threshold(threshold: int = GEN0_THRESHOLD) -> None:
    """Collect the youngest generation less often (default 700 allocations)."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(threshold, gc.get_threshold()[0]), gen1, gen2)


def freeze_startup_objects() -> None:
    """Move everything alive now (the app's own graph) out of the collector's scans."""
    gc.collect()
    gc.freeze()
