"""The one backoff policy the publisher waits by."""

from __future__ import annotations

import random

import pytest

from igpreflight.publish.backoff import Backoff
from igpreflight.publish.settings import PublishSettings


def test_waits_grow_by_the_factor_up_to_the_cap():
    b = Backoff(5.0, 2.0, cap=30.0)
    assert [b.delay(n) for n in range(5)] == [5.0, 10.0, 20.0, 30.0, 30.0]
    assert Backoff(60.0).delay(4) == 960.0  # no cap: the caller decides when to stop


def test_jitter_spreads_within_its_bounds_and_is_reproducible():
    b = Backoff(10.0, jitter=0.2)
    waits = [b.jittered(0, random.Random(n)) for n in range(200)]
    assert all(8.0 <= w <= 12.0 for w in waits) and len(set(waits)) > 100
    assert b.jittered(0, random.Random(7)) == b.jittered(0, random.Random(7))
    assert Backoff(10.0).jittered(3, random.Random(1)) == 80.0


@pytest.mark.parametrize(
    "bad", [dict(first=-1), dict(first=1, factor=0.5), dict(first=1, jitter=1.0)]
)
def test_nonsense_policies_are_refused(bad):
    with pytest.raises(ValueError):
        Backoff(**bad)


def test_the_publishers_three_waits_come_from_its_settings():
    s = PublishSettings(retry_wait=5, backoff=3, max_wait=40, rate_wait_default=60, jitter=0.1)
    assert [s.retry_backoff.delay(n) for n in range(4)] == [5, 15, 40, 40]
    assert [s.poll_backoff(2.0).delay(n) for n in range(4)] == [2, 6, 18, 40]
    assert s.rate_backoff.delay(2) == 540 and s.rate_backoff.cap is None
    assert s.retry_backoff.jitter == s.poll_backoff(1).jitter == 0.1
