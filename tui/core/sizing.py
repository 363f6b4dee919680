"""How big a message is to the server that will read it: exact, or calibrated.

The planner adds up *units* and turns a sum into the server's prompt tokens with
:meth:`Sizer.tokens`. On a server that tokenizes for us (llama.cpp, vLLM; see
server_tokens) units are the server's own counts of each message plus its chat template's
cost per message, and the sum is exact up to the template's fixed part. Elsewhere units are
local counts (tiktoken, exact for OpenAI's models) and the sum goes through the calibration
learned from what the server reported (``fixed + ratio × local``, see calibration).
"""

from __future__ import annotations

import math

from tui.core.calibration import Calibration
from tui.core.models import Message
from tui.core.server_tokens import ServerTokenizer
from tui.core.tokens import REPLY_PRIMING, TokenCounter

__all__ = ["Sizer", "stored_count"]


def stored_count(message: Message, counter: TokenCounter) -> int | None:
    """The message's stored local count if it can be trusted for ``counter``, else None.

    Trusted when it came from the live encoding; while the counter is still estimating, an
    exact count from any encoding beats a fresh estimate, so it is kept too.
    """
    if message.token_count is None or message.token_encoding is None:
        return None
    if message.token_encoding == counter.encoding_label:
        return message.token_count
    if not counter.exact and message.token_encoding != "estimate":
        return message.token_count
    return None


class Sizer:
    """Message sizes for one conversation's plans; local counts it had to redo are kept in
    ``recounted`` (message id -> count) for the caller to store."""

    def __init__(self, counter: TokenCounter, calibration: Calibration | None = None,
                 tokenizer: ServerTokenizer | None = None, *, extra_fixed: int = 0) -> None:
        self.counter = counter
        self.calibration = calibration or Calibration()
        self.tokenizer = tokenizer if tokenizer is not None and tokenizer.supported else None
        self.extra_fixed = extra_fixed  # what a whole-request count showed the sum misses
        self.recounted: dict[str, int] = {}
        self._local: dict[str, int] = {}
        self._label = counter.encoding_label

    @property
    def exact(self) -> bool:
        """Counts come from the server's tokenizer (else: local counts, calibrated)."""
        return self.tokenizer is not None

    @property
    def estimated(self) -> bool:
        """Neither the server's counts nor an exact local encoding: a heuristic."""
        return not self.exact and not self.counter.exact

    @property
    def priming(self) -> int:
        """Units every request costs besides its messages (the template's part is in tokens())."""
        return 0 if self.exact else REPLY_PRIMING

    # -- units -----------------------------------------------------------------------------

    def sync(self) -> None:
        """Drop local counts made with an encoding that is no longer the live one (once per
        plan: the encoding loads in the background)."""
        if self._label != self.counter.encoding_label:
            self._label = self.counter.encoding_label
            self._local.clear()
            self.recounted.clear()

    def forget(self, message_id: str) -> None:
        """A stored message changed (a streamed reply finished): count it again."""
        self._local.pop(message_id, None)
        self.recounted.pop(message_id, None)

    def local(self, message: Message) -> int:
        """The local count (tiktoken or estimate, OpenAI's per-message rule)."""
        n = self._local.get(message.id)
        if n is None:
            n = stored_count(message, self.counter)
            if n is None:
                n = self.recounted.get(message.id)
                if n is None:
                    n = self.counter.count_message(str(message.role), message.content)
                    self.recounted[message.id] = n
            self._local[message.id] = n
        return n

    def units(self, message: Message) -> int:
        tokenizer = self.tokenizer
        if tokenizer is None:
            return self.local(message)
        role = str(message.role)
        known = tokenizer.known_message(message.id, message.content)
        if known is not None:
            return known + tokenizer.overhead.get(role, tokenizer.overhead.get("user", 0))
        return self._server_units(role, message.content, lambda: self.local(message))

    def text_units(self, role: str, content: str) -> int:
        if self.tokenizer is None:
            return self.counter.count_message(role, content)
        return self._server_units(role, content,
                                  lambda: self.counter.count_message(role, content))

    def text_local(self, role: str, content: str) -> int:
        return self.counter.count_message(role, content)

    def _server_units(self, role: str, content: str, local) -> int:
        tokenizer = self.tokenizer
        assert tokenizer is not None
        overhead = tokenizer.overhead.get(role, tokenizer.overhead.get("user", 0))
        known = tokenizer.known(content)
        if known is not None:
            return known + overhead
        # Not counted by the server yet (a draft being typed): the calibrated guess.
        cal = self.calibration
        ratio = cal.ratio * (1 + cal.slack) if cal.learned else 1.0
        return math.ceil(local() * ratio)

    # -- totals ----------------------------------------------------------------------------

    def tokens(self, units: int) -> int:
        """The server's prompt tokens for a request whose messages add up to ``units``."""
        if self.tokenizer is not None:
            return units + self.tokenizer.fixed + self.extra_fixed
        return self.calibration.predict(units)
