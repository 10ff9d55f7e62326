"""The simulator's model checked against DBOS itself: schedules run on real DBOS
(SQLite) with the same sequencer, steps, enqueuer and simulated Instagram must keep the
same properties. Lean on purpose (each crash restarts an engine: about a second)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .instagram import Fault
from .on_dbos import simulate_on_dbos
from .schedules import REGRESSIONS, schedules
from .world import Schedule


def on_one_worker(schedule: Schedule) -> Schedule:
    """The schedule as one DBOS worker runs it: no scheduled posts, no write faults."""
    return replace(
        schedule,
        workers=1,
        posts=tuple("image" if k == "later" else k for k in schedule.posts),
        faults=tuple(f for f in schedule.faults if f.endpoint != "write"),
    )


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression_schedule_on_dbos(name, tmp_path):
    schedule, _ = REGRESSIONS[name]
    simulate_on_dbos(on_one_worker(schedule), tmp_path)


def test_a_kill_inside_media_publish_on_dbos_is_settled_from_the_container(tmp_path):
    """DBOS's own recovery after a kill right after Instagram took the media_publish."""
    schedule = Schedule(
        seed=21,
        posts=("story", "bare", "carousel"),
        ahead=2,
        processing=90.0,
        faults=(Fault("publish", 2, "crash_after"), Fault("status", 9, "crash_before")),
    )
    world = simulate_on_dbos(schedule, tmp_path)
    assert world.crashes >= 1


@settings(
    max_examples=6,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(schedule=schedules.map(on_one_worker), n=st.integers(0, 10**6))
def test_drawn_schedules_on_dbos(schedule, n, tmp_path_factory):
    simulate_on_dbos(schedule, tmp_path_factory.mktemp(f"dbos{n}"))
