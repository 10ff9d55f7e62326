"""The exploration tool (explore.py) and its mixes (mixes.py) keep working: each mix
runs through the command line, each draws the faults it is for, and a defect brought
back is reported with a seed line that replays it. Without these the tool would rot
unseen between the explorations that use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from .changes_back import published_elsewhere_is_finished
from .explore import explore, main, property_of
from .instagram import Fault
from .mixes import MIXES, WEIGHTED, ci_count, draws_its_faults
from .world import Schedule, Stuck, simulate

ROOT = Path(__file__).resolve().parents[2]

# What each weighted mix is for, written out here rather than read from the mix, so a
# mix that stops drawing one of these fails below.
MUST_DRAW = {
    "elsewhere": ({"elsewhere"},),
    "held": ({"elsewhere"}, {"quota", "rate_long", "t190", "e2207032"}),
    "targeted": ({"elsewhere"}, {"t190", "lost190"}, {"crash_before", "crash_after"}),
    "renewed": (
        {"elsewhere"},
        {"t190_renewed"},
        {"crash_before", "crash_after"},
        {"rate_long", "usage_long"},
    ),
    "refused": (
        {"e2207008_done", "e2207008_dead", "e2207008_expired", "e2207032_dead", "e2207032_done"},
    ),
    "unknown": (
        {
            "unknown_done",
            "e2207001_done",
            "e1_99_done",
            "eminus1_done",
            "e9007_done",
            "no_id_done",
            "lost",
            "timeout",
        },
        {"gone", "expire", "usage_long", "e500"},
    ),
}


def test_every_weighted_mix_says_what_it_must_draw():
    assert set(MUST_DRAW) == set(WEIGHTED)


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_the_command_line_runs_a_few_schedules_of_each_mix(mix, capsys):
    assert main(["--mix", mix, "--count", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"mix {mix}: 4 schedules, 0 failed")


def test_the_module_runs_as_a_command():
    done = subprocess.run(
        [sys.executable, "-m", "tests.sim.explore", "--mix", "held", "--count", "3", "--seed", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mix held: 3 schedules, 0 failed")


@pytest.mark.parametrize("mix", WEIGHTED)
def test_each_schedule_of_a_mix_draws_its_faults(mix):
    @settings(max_examples=60, derandomize=True, database=None, deadline=None)
    @given(MIXES[mix].schedules)
    def each(schedule: Schedule) -> None:
        kinds = {f.kind for f in schedule.faults}
        missing = [group for group in MUST_DRAW[mix] if not kinds & group]
        assert not missing, f"{schedule.describe()} draws none of {missing}"
        assert draws_its_faults(MIXES[mix], schedule)

    each()


def test_a_defect_brought_back_is_counted_and_its_seed_line_replays_it():
    """The phone app's publish taken for FINISHED (pub8's defect, brought back): the
    elsewhere mix finds it within 30 schedules, and each printed seed line, pasted as
    code, is the schedule that fails."""
    with published_elsewhere_is_finished()():
        outcome = explore("elsewhere", 30)
        assert outcome.runs == 30
        assert outcome.by_property["published twice"] == len(outcome.failures) > 0
        name, _message, schedule = outcome.failures[0]
        assert name == "published twice"
        entry = eval("{" + _line(outcome, schedule) + "}", {"Schedule": Schedule, "Fault": Fault})
        (kept,) = entry.values()
        assert kept == (schedule, None)
        with pytest.raises(AssertionError, match="published more than once"):
            simulate(kept[0])
    simulate(schedule)  # passes with the defect gone


def _line(outcome, schedule: Schedule) -> str:  # noqa: ANN001
    from .explore import report

    lines = report(outcome).splitlines()
    return next(line for line in lines if f"seed={schedule.seed}," in line)


def test_failures_are_named_by_the_property_they_break():
    assert property_of(Stuck("p0 waits")) == "stuck"
    assert property_of(AssertionError("published more than once: {'p0': 2}")) == ("published twice")
    assert property_of(AssertionError("a out of order: ['p0', 'p1']")) == "out of order"
    assert property_of(AssertionError("p1 published 3.0 s early")) == "published early"
    assert property_of(KeyError("x")) == "raised KeyError"


def test_ci_counts_follow_the_environment(monkeypatch):
    monkeypatch.setenv("IGPREFLIGHT_SIM_SCHEDULES", "123")
    monkeypatch.setenv("IGPREFLIGHT_SIM_SCHEDULES_HELD", "7")
    assert ci_count("standard") == 123
    assert ci_count("held") == 7
    assert ci_count("targeted") == MIXES["targeted"].ci
    monkeypatch.setenv("IGPREFLIGHT_SIM_SCHEDULES_STANDARD", "9")
    assert ci_count("standard") == 9
