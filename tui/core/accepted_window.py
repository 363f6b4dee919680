"""Planning for a server that refuses a request as too long without saying its window or
its count (some gateways: "Input is too long for requested model").

All there is to go on are sizes (prompt tokens): the largest request it took, so a window at
least that big (the "accepted" window, stored: safe for any later process), and the smallest
it refused (stored too, beside it). While the two are far apart, a send plans its prompt for up
to halfway between them (a "trial"); a refused trial is sent again within the accepted
window at once, so each costs one refused request at most and the gap halves with each.
Once they are close, sends plan within the accepted window as within any known one (the
reply's room kept out of it).
"""

from __future__ import annotations

from tui.core.context import budget_for

NUMBERLESS_SHRINK = 0.6
"""With no size known to work, the retry after such a refusal is at most this share of the
refused request (a few percent less would spend every retry when the window is half the
guess)."""
PROBE_GAP = 0.1
"""Tries stop once the refused size is within this share above the accepted one."""


def window_holding(tokens: int, max_output_tokens: int | None) -> int:
    """The smallest window whose prompt budget holds ``tokens`` (the reply's room and the
    safety margin on top, as budget_for keeps them)."""
    size = max(1, tokens)
    for _ in range(64):  # the shortfall shrinks by at least a half each step
        short = tokens - budget_for(size, max_output_tokens).available
        if short <= 0:
            break
        size += short
    return size


def probe_size(accepted: int, refused: int | None) -> int | None:
    """The prompt size to try, halfway between the largest taken and the smallest refused
    (tokens); None when nothing was refused or the two are close."""
    if not refused or refused <= accepted * (1 + PROBE_GAP):
        return None
    return (accepted + refused) // 2
