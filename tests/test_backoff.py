"""The one backoff policy the publisher waits by, and proof that the waits it really
makes (between polls, before a repeated call, while settling) are these policies'."""

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


# ---- the waits the publisher really makes are these policies' ---------------------------


class Recorder:
    """A clock that records every wait (and moves on by it)."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class Script:
    """A Graph client answering from scripts: statuses in turn, then errors or ids."""

    base_url = "https://graph.test"

    def __init__(self, statuses=(), creates=()) -> None:  # noqa: ANN001
        self.statuses, self.creates = list(statuses), list(creates)
        self.last_usage = None

    def container_status(self, cid):  # noqa: ANN001, ANN201
        return self.statuses.pop(0), ""

    def create_container(self, user, params):  # noqa: ANN001, ANN201
        got = self.creates.pop(0)
        if isinstance(got, Exception):
            raise got
        return {"id": got}

    def publishing_limit(self, user):  # noqa: ANN001, ANN201
        return 0, 50


def _setup(client: Script, settings: PublishSettings, seed: int = 7):  # noqa: ANN202
    from igpreflight.model import MediaItem, Post
    from igpreflight.publish.accounts import Account
    from igpreflight.publish.steps.runtime import Runtime
    from igpreflight.publish.steps.spec import PostSpec

    clock = Recorder()
    rt = Runtime(clock=clock, rng=random.Random(seed), client_factory=lambda acc, r: client)
    url = "https://cdn.test/a.jpg"
    post = Post(id="p", media_type="IMAGE", media=(MediaItem(path=url, resolved="", url=url),))
    spec = PostSpec(Account("a", "1", "T"), post, "IMAGE", (False,), 0, None, None, settings, None)
    return rt, spec, clock


def test_the_waits_between_polls_are_poll_backoff_jittered():
    from igpreflight.publish.steps.containers import wait_ready

    settings = PublishSettings(first_wait_image=4.0, max_wait=20.0, jitter=0.2)
    client = Script(statuses=["IN_PROGRESS"] * 5 + ["FINISHED"])
    rt, spec, clock = _setup(client, settings)
    wait_ready(rt, spec, "top", ("c1",), clock.now())
    rng = random.Random(7)
    policy = settings.poll_backoff(4.0 / 2)
    assert clock.sleeps == [4.0, *(policy.jittered(n, rng) for n in range(5))]
    assert max(clock.sleeps[1:]) <= 20.0 * 1.2  # capped (before jitter)


def test_the_waits_before_a_repeated_call_are_retry_backoff_jittered():
    from igpreflight.publish.graph.errors import GraphError
    from igpreflight.publish.steps.containers import create

    def down() -> GraphError:
        return GraphError(503, None, None, True, "HTTP 503", uncertain=True)

    settings = PublishSettings(retry_wait=5.0, jitter=0.2, check_quota=False)
    rt, spec, clock = _setup(Script(creates=[down(), down(), "c1"]), settings)
    assert create(rt, spec, "top").ids == ("c1",)
    rng = random.Random(7)
    assert clock.sleeps == [settings.retry_backoff.jittered(n, rng) for n in range(2)]


def test_the_waits_while_settling_are_settle_backoff_jittered():
    from igpreflight.publish.steps.publishing import settle

    settings = PublishSettings(settle_poll=10.0, settle_window=1e6, jitter=0.2)
    client = Script(statuses=["FINISHED"] * 4 + ["PUBLISHED"])
    rt, spec, clock = _setup(client, settings)
    got = settle(rt, spec, "c1", clock.now())
    assert type(got).__name__ == "Published"
    rng = random.Random(7)
    assert clock.sleeps == [settings.settle_backoff.jittered(n, rng) for n in range(4)]
