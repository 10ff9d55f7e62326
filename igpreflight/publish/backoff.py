"""One backoff policy: capped exponential waits with optional jitter.

The publisher waits in three places (polling a container, retrying a call the
Graph API says to retry, waiting out a rate limit with no usage header); each is
a `Backoff` built from `PublishSettings`, so the arithmetic lives here once and a
durable engine can reuse the same policy between its steps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Wait `n` (0-based) is `first * factor**n`, at most `cap`; `jitter` is the
    fraction (0.2 = +-20 %) by which `jittered` spreads it so clients do not align."""

    first: float
    factor: float = 2.0
    cap: float | None = None
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.first < 0 or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError(f"not a backoff policy: {self}")
        if self.cap is not None and self.cap < 0:
            raise ValueError(f"not a backoff cap: {self.cap}")

    def delay(self, n: int) -> float:
        """The nominal wait before attempt `n + 1` (no jitter)."""
        if n < 0:
            raise ValueError("the attempt number starts at 0")
        wait = self.first * self.factor**n
        return wait if self.cap is None else min(self.cap, wait)

    def jittered(self, n: int, rng: random.Random | None = None) -> float:
        """`delay(n)` spread by +-jitter; never negative."""
        wait = self.delay(n)
        if not self.jitter or wait <= 0:
            return wait
        r = rng or random
        return max(0.0, wait * (1 + r.uniform(-self.jitter, self.jitter)))
