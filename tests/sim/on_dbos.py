"""The simulator's schedules on real DBOS (SQLite), to keep the in-memory model honest:
the same sequencer, steps, enqueuer, simulated Instagram and virtual clock, but the
queue, the recording, the replay and the recovery are DBOS's own.

One worker (DBOS runs one instance per process); a crash is a kill: every thread of
the worker dies at its next look at the clock or at Instagram (nothing of their steps
recorded), the engine is stopped, and a new one (a new executor) recovers what was
running. Scheduled posts are left out: DBOS delays enqueues in real time.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from igpreflight.publish.durable.engine import Engine
from igpreflight.publish.durable.plan import db_url
from igpreflight.publish.durable.queue import Enqueuer
from igpreflight.publish.steps.runtime import Runtime
from igpreflight.states import PostState

from .instagram import Clock, Instagram, SimCrash
from .world import CALM_RUNS, Schedule, check, make_accounts, make_posts, make_specs


class Killed(BaseException):
    """The engine's wait learns that the worker was killed."""


class DbosWorld:
    def __init__(self, schedule: Schedule, folder: Path) -> None:
        assert schedule.workers == 1 and "later" not in schedule.posts
        assert all(f.endpoint != "write" for f in schedule.faults)  # DBOS writes its own
        self.schedule = schedule
        self.dead = False
        self.crashes = 0
        self.clock = Clock(die=self._die)
        self.ig = Instagram(
            self.clock,
            processing=schedule.processing,
            lifetime=schedule.lifetime,
            faults=list(schedule.faults),
        )
        self.ig.on_crash = self._kill
        self.url = db_url(str(folder / "sim.sqlite"))
        self.rng = random.Random(schedule.seed)
        self.accounts = make_accounts(schedule)
        self.posts = make_posts(schedule)
        self.engine: Engine | None = None

    def _die(self) -> None:
        if self.dead:
            raise SimCrash()

    def _kill(self) -> None:
        self.dead = True  # every thread of this worker dies at its next look

    def _runtime(self) -> Runtime:
        return Runtime(
            clock=self.clock,
            rng=random.Random(self.rng.getrandbits(32)),
            client_factory=lambda acc, rt: self.ig.client(acc.ig_user_id, self._die),
        )

    def _start(self) -> None:
        self.engine = Engine(self.url, ahead=self.schedule.ahead, runtime=self._runtime())
        self.engine.start()

    def _tick(self) -> None:
        if self.dead:
            raise Killed()

    def run(self) -> DbosWorld:
        specs = make_specs(self.accounts, self.posts)
        self._start()
        try:
            for r in range(self.schedule.calm_after + CALM_RUNS):
                if r == self.schedule.calm_after:
                    self.ig.settle_down()
                    self._restart()  # a new process: new caches, a renewed token
                elif r > 0 and self.ig.renew():
                    self._restart()  # the user renewed the token (t190_renewed)
                with Enqueuer(self.url, self.schedule.ahead) as queue:
                    if r > 0:
                        queue.taken_up(due_only=False, now=self.clock.now())
                    queue.enqueue(specs, now=self.clock.now())
                self._until_idle()
                if r >= self.schedule.calm_after and self.all_published():
                    break
        finally:
            assert self.engine is not None
            self.engine.close()
        return self

    def _restart(self) -> None:
        assert self.engine is not None
        self.engine.close()
        self.dead = False
        self._start()

    def _until_idle(self) -> None:
        while True:
            assert self.engine is not None
            try:
                self.engine.wait([], until_idle=True, tick=self._tick)
                return
            except (Killed, SimCrash):  # the wait's own look at the clock may be the one
                self.crashes += 1
                self._restart()

    def rows(self) -> list[dict[str, Any]]:
        assert self.engine is not None
        return self.engine.states()

    def all_published(self) -> bool:
        return all(r["state"] == PostState.PUBLISHED for r in self.rows())

    def check(self) -> None:
        from dbos import DBOSClient

        client = DBOSClient(system_database_url=self.url)
        try:
            failed = {
                w.workflow_id.split(":", 2)[-1].split("~")[0]
                for w in client.list_workflows(status="SUCCESS")
                if (w.output or {}).get("state") in (PostState.FAILED, PostState.DUPLICATE)
            }
            states = {}
            from igpreflight.publish.durable.queries import post_states

            for r in post_states(client):
                states[r["post_id"]] = r["state"]
        finally:
            client.destroy()
        check(self.ig, self.posts, make_specs(self.accounts, self.posts), states, failed)


def simulate_on_dbos(schedule: Schedule, folder: Path) -> DbosWorld:
    world = DbosWorld(schedule, folder)
    try:
        world.run()
    except SimCrash:  # a crash outside a workflow (never expected): a failure to report
        raise AssertionError("a simulated crash escaped the engine") from None
    world.check()
    return world
