"""Named mixes of schedules for the simulator. The standard strategy (schedules.py)
draws each fault kind rarely, and some defects need several rare faults at once: the
phone app publishing a container, then a 190, then a crash (pub17). The weighted mixes
draw those faults in every schedule. CI runs a derandomized share of each
(test_simulator.py); `python -m tests.sim.explore --mix NAME` runs many more at random.

Each mix names the fault groups it promises to draw: every schedule holds at least one
fault of each group (test_mixes.py checks it, so a mix cannot silently stop drawing
what it is for).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import strategies as st

from .instagram import Fault
from .schedules import faults, schedules
from .world import KINDS, Schedule

ELSEWHERE = frozenset({"elsewhere"})
HOLDS = frozenset({"quota", "rate_long", "t190", "e2207032"})
TOKEN = frozenset({"t190", "lost190"})
RENEWED = frozenset({"t190_renewed"})
# A read answered rate limited for that call (2 h: past what a step waits), or with
# usage headers at 100 % that stop the next call before it is sent.
READ_LIMITS = frozenset({"rate_long", "usage_long"})
CRASH = frozenset({"crash_before", "crash_after"})
REFUSALS = frozenset(
    {"e2207008_done", "e2207008_dead", "e2207008_expired", "e2207032_dead", "e2207032_done"}
)
# Carried out all the same, or perhaps: the client cannot tell from the answer.
UNKNOWN = frozenset(
    {
        "unknown_done",
        "e2207001_done",
        "e1_99_done",
        "eminus1_done",
        "e9007_done",
        "no_id_done",
        "lost",
        "timeout",
    }
)
# While such a post settles: its container gone, expired, or the account's usage full.
SETTLING = frozenset({"gone", "expire", "usage_long", "e500"})
# Around a refusal: a lost send, a worker killed while Instagram publishes, a slow one.
AROUND_A_SEND = ("drop", "lost", "crash_after", "timeout", "crash_before")


def _faults(kinds: frozenset[str] | tuple[str, ...], endpoints: tuple[str, ...], most: int):
    """Faults of `kinds` on `endpoints`, at the nth call, n up to `most`."""
    return st.builds(
        Fault,
        endpoint=st.sampled_from(endpoints),
        nth=st.integers(1, most),
        kind=st.sampled_from(sorted(kinds)),
    )


elsewhere = _faults(ELSEWHERE, ("status",), 8)
held = _faults(HOLDS, ("publish", "create", "limit"), 4)
token = _faults(TOKEN, ("media", "status", "any"), 6)
crash = _faults(CRASH, ("write",), 40)
# Aimed at the reads of one of the first containers made ("status#k"): a re-run reads
# its earlier attempt's container after its new one's polls, past the nth most draws.
AIMS = ("status#1", "status#2", "status#3")
aimed_elsewhere = st.one_of(elsewhere, _faults(ELSEWHERE, AIMS, 3))
renewed = st.one_of(_faults(RENEWED, ("media", "status", "any"), 6), _faults(RENEWED, AIMS, 4))
read_limits = st.one_of(_faults(READ_LIMITS, ("status",), 14), _faults(READ_LIMITS, AIMS, 4))
refusal = _faults(REFUSALS, ("publish",), 4)
around = _faults(AROUND_A_SEND, ("publish",), 4)
unknown = _faults(UNKNOWN, ("publish",), 4)
settling = _faults(SETTLING, ("status", "media"), 8)


def _mix(
    *groups,
    least: int = 1,
    ahead: int = 3,
    slow: tuple[float, ...] = (0.0, 20.0, 150.0, 400.0),
    lifetimes: tuple[float, ...] = (86400.0, 86400.0, 600.0),
    calm: tuple[int, int] = (1, 2),
    most: int = 6,
):
    """Schedules whose faults are, in order, `low`-`high` of each (strategy, low, high)
    group in `groups`; `least` posts at the least; the faults stop after `calm` runs."""
    parts = [st.lists(g, min_size=low, max_size=high) for g, low, high in groups]
    return st.builds(
        Schedule,
        seed=st.integers(0, 2**31 - 1),
        posts=st.lists(st.sampled_from(KINDS), min_size=least, max_size=most).map(tuple),
        accounts=st.integers(1, 2),
        workers=st.integers(1, 3),
        ahead=st.integers(0, ahead),
        processing=st.sampled_from(slow),
        stale=st.sampled_from((0.0, 30.0, 600.0)),
        lifetime=st.sampled_from(lifetimes),
        faults=st.tuples(*parts).map(lambda t: tuple(f for part in t for f in part)),
        calm_after=st.integers(*calm),
    )


@dataclass(frozen=True)
class Mix:
    """A strategy of schedules, the fault groups each of its schedules draws, and how
    many derandomized schedules of it CI runs (test_simulator.py)."""

    schedules: st.SearchStrategy[Schedule]
    draws: tuple[frozenset[str], ...]
    ci: int
    why: str


MIXES: dict[str, Mix] = {
    "standard": Mix(schedules, (), 10_000, "every fault kind, rarely several rare ones"),
    "elsewhere": Mix(
        _mix((elsewhere, 1, 3), (faults, 0, 6), least=2),
        (ELSEWHERE,),
        1000,
        "the phone app publishes containers (pub8, pub14: order and lookups)",
    ),
    "held": Mix(
        _mix((elsewhere, 1, 3), (held, 1, 3), (faults, 0, 3), least=3, ahead=2),
        (ELSEWHERE, HOLDS),
        1000,
        "the phone app, and posts held by quota, rate limits, 190, 2207032 (pub14)",
    ),
    "targeted": Mix(
        _mix(
            (elsewhere, 1, 3),
            (token, 1, 2),
            (crash, 1, 3),
            (faults, 0, 2),
            slow=(0.0, 20.0, 150.0),
            lifetimes=(86400.0, 600.0),
        ),
        (ELSEWHERE, TOKEN, CRASH),
        1000,
        "the phone app, a 190 and killed writes together (pub17: wrong duplicate)",
    ),
    "renewed": Mix(
        _mix(
            (aimed_elsewhere, 1, 2),
            (renewed, 1, 2),
            (crash, 1, 3),
            (read_limits, 1, 2),
            (faults, 0, 2),
            slow=(0.0, 20.0, 150.0),
            calm=(2, 3),
            most=3,
        ),
        (ELSEWHERE, RENEWED, CRASH, READ_LIMITS),
        600,  # finds f57338c's defect brought back 3 times; CI's sim tests grow < 15 s
        "the phone app, a 190 the user renews while the faults go on, killed writes and"
        " rate-limited container reads on the re-run (sim20: an earlier container's read)",
    ),
    "refused": Mix(
        _mix((refusal, 1, 2), (around, 0, 2), (crash, 0, 2), (faults, 0, 2)),
        (REFUSALS,),
        1000,
        "2207008/2207032 published anyway or for good, around lost and slow sends (pub8, pub13)",
    ),
    "unknown": Mix(
        _mix((unknown, 1, 2), (settling, 1, 2), (crash, 0, 2), (faults, 0, 2)),
        (UNKNOWN, SETTLING),
        1000,
        "sends of unknown outcome settled while containers go, expire or usage is full (i19d)",
    ),
}


def draws_its_faults(mix: Mix, schedule: Schedule) -> bool:
    """Whether `schedule` holds a fault of each group `mix` promises."""
    kinds = {f.kind for f in schedule.faults}
    return all(kinds & group for group in mix.draws)


def ci_count(name: str) -> int:
    """How many derandomized schedules of mix `name` CI runs: IGPREFLIGHT_SIM_SCHEDULES
    for the standard mix (as before), IGPREFLIGHT_SIM_SCHEDULES_<NAME> for any mix
    (IGPREFLIGHT_SIM_SCHEDULES_TARGETED=5000), otherwise the mix's own `ci`."""
    own = os.environ.get(f"IGPREFLIGHT_SIM_SCHEDULES_{name.upper()}")
    if own is None and name == "standard":
        own = os.environ.get("IGPREFLIGHT_SIM_SCHEDULES")
    return int(own) if own is not None else MIXES[name].ci


WEIGHTED = tuple(name for name in MIXES if name != "standard")
