"""How a server counts, where it cannot count for us: ``server ≈ fixed + ratio × local``.

Local counts use tiktoken (OpenAI's rule for message overhead); a llama.cpp or Ollama server
counts with its own vocabulary and chat template. The two differ in two ways: a ratio (a
different vocabulary spends more or fewer tokens on the same text) and a fixed cost (the
template's headers, a date line, BOS). Fitting only a ratio made small requests, where the
fixed cost dominates, pass for a tokenizer difference; so a line is fitted, from every count a
server reports: the usage of successful requests (chat, summaries, titles) and the count in
an overflow error. Old samples fade (DECAY) so a changed model or template is followed.
``slack`` is how far below the truth recent predictions were, kept so the next ones are not:
both the miss of the prediction made before each sample arrived and, after each refit, the
worst miss of the new line on the last few samples (a refit that tilts the line can leave a
request size it has just seen under-counted).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

DECAY = 0.85  # weight an old sample keeps each time a new one arrives
RATIO_BOUNDS = (0.3, 4.0)
MAX_FIXED = 4096
MAX_SLACK = 0.5
RECENT = 6  # samples the fitted line is checked against after each refit


@dataclass
class Calibration:
    ratio: float = 1.0
    fixed: float = 0.0
    slack: float = 0.0
    samples: int = 0
    # Decayed sums for the least-squares line.
    w: float = 0.0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    sxy: float = 0.0
    recent: list[list[int]] = field(default_factory=list)
    """The last RECENT (local, server) pairs."""
    raised: int = 0
    """Times the line was raised to a count the server gave for part of a request (raise_to)."""

    @classmethod
    def from_ratio(cls, ratio: float) -> Calibration:
        """A start from a conversation's stored ratio (schema before version 4)."""
        return cls(ratio=ratio, samples=1) if ratio > 0 else cls()

    @classmethod
    def from_state(cls, state: dict | None) -> Calibration:
        if not state:
            return cls()
        known = {k: float(v) for k, v in state.items()
                 if k in cls.__dataclass_fields__ and isinstance(v, (int, float))}
        calibration = cls(**known)  # type: ignore[arg-type]
        calibration.samples = int(calibration.samples)
        pairs = state.get("recent")
        if isinstance(pairs, list):
            calibration.recent = [[int(a), int(b)] for a, b in
                                  (p for p in pairs if isinstance(p, list) and len(p) == 2)
                                  if isinstance(a, (int, float)) and isinstance(b, (int, float))
                                  ][-RECENT:]
        return calibration

    def state(self) -> dict:
        return asdict(self)

    @property
    def learned(self) -> bool:
        return self.samples > 0 or self.raised > 0

    def predict(self, local: int) -> int:
        """The server's count for a request counted ``local`` here (rounded up)."""
        if not self.learned:
            return local
        return math.ceil((self.fixed + self.ratio * local) * (1 + self.slack))

    def learn(self, local: int, server: int) -> None:
        """Fold in one (local, server) pair for the same request.

        A count under RATIO_BOUNDS' low end of the local one is not a count of the whole
        prompt (Ollama 0.30 left out the tokens it served from its cache: a 3,000-token
        chat reported as 100) and is not learned: it would have the next requests counted
        far too low, which Ollama then cuts without a word."""
        if local <= 0 or server <= 0 or (local >= 64 and server < RATIO_BOUNDS[0] * local):
            return
        before = self.predict(local) if self.samples else None
        d = DECAY
        self.w = self.w * d + 1
        self.sx = self.sx * d + local
        self.sy = self.sy * d + server
        self.sxx = self.sxx * d + local * local
        self.sxy = self.sxy * d + local * server
        self.samples += 1
        self.recent = [*self.recent, [local, server]][-RECENT:]
        self._fit()
        misses = [0.0]
        if before is not None:
            misses.append((server - before) / server)  # > 0: the prediction was too low
        # The refitted line against what it has just seen: its own worst under-count.
        misses += [(seen - (self.fixed + self.ratio * size)) / seen
                   for size, seen in self.recent]
        self.slack = min(MAX_SLACK, max(self.slack * d, *misses))

    def raise_to(self, local: int, server: int) -> None:
        """The server counted ``server`` tokens of a request counted ``local`` here, but only
        of what it kept: it cut the rest without a word (Ollama, over its window). The whole
        costs more, by an unknown amount, so this is no point to fit a line through (it
        bent the line flat: a large fixed cost, every small request over-counted). The
        ratio is raised so that such a request is predicted at least that high; the next
        counts of whole requests refit the line as usual."""
        if local <= 0 or server <= 0 or self.predict(local) >= server:
            return
        if not self.learned:
            self.fixed = 0.0
        self.ratio = min(RATIO_BOUNDS[1], (server - self.fixed) / local / (1 + self.slack))
        self.raised += 1

    def _fit(self) -> None:
        low, high = RATIO_BOUNDS
        mx, my = self.sx / self.w, self.sy / self.w
        var = self.sxx / self.w - mx * mx
        cov = self.sxy / self.w - mx * my
        if self.samples >= 2 and var > (0.15 * mx) ** 2:
            ratio = cov / var
            fixed = my - ratio * mx
            if low <= ratio <= high and 0 <= fixed <= MAX_FIXED:
                self.ratio, self.fixed = ratio, fixed
                return
        # Too little spread to tell the two apart: keep the fixed cost, refit the ratio.
        fixed = min(self.fixed, my * 0.5)
        self.ratio = min(high, max(low, (my - fixed) / mx))
        self.fixed = min(MAX_FIXED, max(0.0, my - self.ratio * mx))  # what the bounds left
