"""Explore a mix of schedules (mixes.py) and print what failed, each failing schedule
as a line to paste into a kept-seed table (schedules.py's REGRESSIONS, or
*_seeds.py beside it):

    python -m tests.sim.explore --mix targeted --count 3000 --random
    python -m tests.sim.explore --mix held --count 500 --seed 7

Without --random or --seed the draws are derandomized: the same schedules CI runs
first. Failures are caught, not shrunk, so the run goes on and counts them all.
Exits 1 when any schedule failed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from .mixes import MIXES
from .world import Schedule, Stuck, simulate

# The properties (properties.py, world.py), by how their failure message begins.
PROPERTIES = (
    ("published more than once", "published twice"),
    ("not published once after the faults stopped", "not published once"),
    ("on Instagram but not reported published", "not reported published"),
    (" published ", "published early"),  # "<post> published N s early"
    (" out of order", "out of order"),
)


def property_of(error: BaseException) -> str:
    """The property a failure broke, named short; an exception of no property is a
    failure too (the simulator or the code under it raised), named by its type."""
    if isinstance(error, Stuck):
        return "stuck"
    if not isinstance(error, AssertionError):
        return f"raised {type(error).__name__}"
    text = str(error)
    for start, name in PROPERTIES:
        if start in text.split(":", 1)[0]:
            return name
    return "assertion: " + text.split(":", 1)[0][:60]


@dataclass
class Outcome:
    """What an exploration ran into: how many schedules, failures by property, and
    each failing schedule with its message."""

    mix: str
    runs: int = 0
    by_property: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, Schedule]] = field(default_factory=list)


def explore(mix: str, count: int, seed: int | None = None, random: bool = False) -> Outcome:
    """Run `count` schedules of `mix`: derandomized unless `seed` or `random`."""
    outcome = Outcome(mix)

    @settings(
        max_examples=count,
        derandomize=seed is None and not random,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(MIXES[mix].schedules)
    def run(schedule: Schedule) -> None:
        outcome.runs += 1
        try:
            simulate(schedule)
        except Exception as error:  # noqa: BLE001 - counted and printed, the run goes on
            name = property_of(error)
            outcome.by_property[name] += 1
            outcome.failures.append((name, str(error)[:300], schedule))

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    run()
    return outcome


def seed_line(mix: str, schedule: Schedule) -> str:
    """A kept-seed entry for `schedule`, to paste into a REGRESSIONS-like table (name it
    after the defect; replace None with its change back when there is one)."""
    return f'    "{mix}_seed{schedule.seed}": ({schedule.describe()}, None),'


def report(outcome: Outcome) -> str:
    """The counts, then each failure: its property, its message, its seed line."""
    lines = [
        f"mix {outcome.mix}: {outcome.runs} schedules, {sum(outcome.by_property.values())} failed"
    ]
    lines += [f"  {n:6d} {name}" for name, n in outcome.by_property.most_common()]
    for name, message, schedule in outcome.failures:
        lines += [f"# {name}: {message}", seed_line(outcome.mix, schedule)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line (the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m tests.sim.explore", description=__doc__)
    parser.add_argument("--mix", choices=sorted(MIXES), default="standard")
    parser.add_argument("--count", type=int, default=1000, help="schedules to run")
    parser.add_argument("--seed", type=int, help="hypothesis's seed: reproducible draws")
    parser.add_argument("--random", action="store_true", help="new draws on every run")
    args = parser.parse_args(argv)
    outcome = explore(args.mix, args.count, seed=args.seed, random=args.random)
    print(report(outcome))
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
