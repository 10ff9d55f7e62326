"""The narrow port between a post's workflow and what records it.

The workflow (workflow.py) is a generator: it yields these operations and receives
their results, so it can be driven by DBOS (dbos_port.py) or by the in-memory model of
the crash-point simulator (tests/sim/), exactly the same code either way. Every
operation's result is recorded when it completes; a process that dies during one
records nothing of it, and the next execution replays the recorded results in order
and carries on from the first one that was not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from igpreflight.publish.durable.view import PostView


@dataclass(frozen=True)
class Step:
    """Run `fn(runtime, *args)` (through steps.guard.run_step); record its result."""

    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Show:
    """Publish the post's current state (the "state" event readers see)."""

    view: PostView


@dataclass(frozen=True)
class WaitTurn:
    """Until workflow `prev` (the account's previous post) has ended, or shows a state
    other than `shown` while it waits for its time (scheduled); result: steps.Turn.
    With `waiter` (the waiting attempt's workflow id), `prev` is the attempt a post
    that ended before its turn named: wait for the attempt that stands for it now,
    of those enqueued before the waiter (queries.standing_attempt)."""

    prev: str
    shown: str | None = None
    waiter: str | None = None


@dataclass(frozen=True)
class Peek:
    """How workflow `prev` ended, without waiting (Turn with state None while it goes
    on): a post behind one that ended held makes no container of its own."""

    prev: str


@dataclass(frozen=True)
class SleepUntil:
    """A durable wait until `at` (epoch seconds): a resumed workflow waits only what
    is left."""

    at: float


@dataclass(frozen=True)
class Now:
    """The time, recorded (a resumed workflow sees the same moment)."""


Op = Step | Show | WaitTurn | Peek | SleepUntil | Now
