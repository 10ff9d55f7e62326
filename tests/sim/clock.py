"""The simulated world's virtual clock, and the crash that kills a worker in it."""

from __future__ import annotations

import threading
from collections.abc import Callable

START = 1_800_000_000.0  # the virtual clock's epoch (2027-01-15)


class SimCrash(BaseException):
    """The worker process dies here (a kill -9): nothing of the step is recorded."""


class Clock:
    """The one virtual clock of a simulated world: sleeping moves it (no real waits).
    `die` is called first by every look (the DBOS-backed world kills threads there)."""

    def __init__(self, die: Callable[[], None] = lambda: None) -> None:
        self.t = START
        self.die = die
        self.lock = threading.Lock()

    def now(self) -> float:
        self.die()
        return self.t

    def sleep(self, seconds: float) -> None:
        self.die()
        if seconds > 0:
            with self.lock:
                self.t += seconds
