"""Which attempt a post behind one that ended before its turn waits for
(queries.standing_attempt), on the simulator's in-memory durable queue with real specs
enqueued by the real Enqueuer: the attempt named, or the one that took it up once it
ended held, but never a retry of a failed post, nor an attempt enqueued after the
waiter (with one slot per account, the queue would never run it while the waiter
waits: a post stuck for good)."""

from __future__ import annotations

from dataclasses import replace

from igpreflight.publish.durable.queries import standing_attempt
from igpreflight.publish.durable.queue import Enqueuer

from .instagram import Clock
from .memory import MemoryClient, MemoryDB
from .population import make_accounts, make_posts, make_specs
from .world import Schedule


def line(order: tuple[str, ...], first_ended: str) -> tuple[MemoryClient, dict[str, str]]:
    """p0's first attempt ended `first_ended`; then p0's second attempt and p2's second
    are enqueued in `order` ("p0", "p2"). Returns the client and the workflow ids."""
    schedule = Schedule(seed=0, posts=("image", "image", "image"), ahead=0)
    specs = make_specs(make_accounts(schedule), make_posts(schedule))
    db = MemoryDB(Clock())
    queue = Enqueuer("memory", client=MemoryClient(db))
    queue.enqueue(specs, now=0.0)
    p0, _, p2 = specs
    db.flows[p0.wid].status, db.flows[p0.wid].output = "SUCCESS", {"state": first_ended}
    again = {"p0": replace(p0, attempt=2), "p2": replace(p2, attempt=2)}
    for name in order:
        queue.put(again[name], now=0.0)
    ids = {"p0#1": p0.wid, "p0#2": again["p0"].wid, "p2#2": again["p2"].wid}
    return MemoryClient(db), ids


def test_a_held_attempt_stands_for_the_one_that_took_it_up_enqueued_before_the_waiter():
    client, ids = line(("p0", "p2"), "held")
    assert standing_attempt(client, ids["p0#1"], ids["p2#2"]) == ids["p0#2"]


def test_an_attempt_enqueued_after_the_waiter_is_not_waited_for():
    client, ids = line(("p2", "p0"), "held")
    assert standing_attempt(client, ids["p0#1"], ids["p2#2"]) == ids["p0#1"]


def test_a_failed_attempt_stands_for_itself():
    client, ids = line(("p0", "p2"), "failed")
    assert standing_attempt(client, ids["p0#1"], ids["p2#2"]) == ids["p0#1"]
