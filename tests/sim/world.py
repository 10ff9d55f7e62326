"""A simulated world: posts, accounts, 1-3 workers, the in-memory durable queue, the
simulated Instagram, one virtual clock, and a schedule of faults; driven one action at
a time in an order drawn from the schedule's seed.

Each action is one of: a live worker dequeues a post; an execution performs its next
operation (a step, an event, a wait) through the real sequencer and the real steps; a
dead worker restarts; a dead worker's posts go back to the queue. Faults kill a worker
before or after a Graph call or a recorded write, lose requests and answers, and make
Instagram misbehave (instagram.py). After `calm_after` runs the faults stop, and the
posts are published again as a user would (a new `publish`, a new worker), up to
CALM_RUNS times.

The properties, checked by `check`: every post is published at most once, ever; every
post ends published exactly once after the faults stop; no run is left waiting (no post
stuck, no account's queue waiting forever); none is published before its publish_at;
each account publishes in its order.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from igpreflight.publish.durable.ops import Now, Peek, Show, SleepUntil, Step, WaitTurn
from igpreflight.publish.durable.queries import standing_attempt
from igpreflight.publish.durable.queue import Enqueuer
from igpreflight.publish.durable.view import PostView, turn_of
from igpreflight.publish.durable.workflow import post_life
from igpreflight.publish.steps.guard import run_step
from igpreflight.publish.steps.results import Turn
from igpreflight.publish.steps.runtime import Runtime
from igpreflight.states import PostState

from .instagram import Clock, Fault, Instagram, SimCrash
from .memory import Flow, MemoryClient, MemoryDB, MemoryLedger
from .population import make_accounts, make_posts, make_specs
from .properties import check

CALM_RUNS = 3  # runs after the faults stop: a re-run, a worker, one more
TALLY: Counter[str] = Counter()  # which paths of the protocol the schedules went through
MAX_ACTIONS = 20_000  # per run: a run that needs more is stuck
PARKED = object()
KINDS = ("image", "bare", "story", "reel", "carousel", "later")


class Stuck(AssertionError):
    """A run that never settles: a post stuck, an account's queue waiting forever."""


@dataclass(frozen=True)
class Schedule:
    """Everything a simulation depends on; `seed` decides every interleaving."""

    seed: int
    posts: tuple[str, ...]  # per post, one of KINDS
    accounts: int = 1
    workers: int = 1
    ahead: int = 1
    processing: float = 30.0  # how long Instagram takes over a media_publish
    stale: float = 30.0  # how long a dead worker's posts wait to be taken over
    lifetime: float = 86400.0  # containers expire after this (short: they do, mid-flight)
    faults: tuple[Fault, ...] = ()
    calm_after: int = 1  # runs with faults

    def describe(self) -> str:
        return (
            f"Schedule(seed={self.seed}, posts={self.posts}, accounts={self.accounts},"
            f" workers={self.workers}, ahead={self.ahead}, processing={self.processing},"
            f" stale={self.stale}, lifetime={self.lifetime}, faults={self.faults},"
            f" calm_after={self.calm_after})"
        )


@dataclass
class Worker:
    name: str
    executor: str
    runtime: Runtime
    alive: bool = True
    restart_at: float = 0.0


@dataclass
class Execution:
    flow: Flow
    worker: Worker
    life: Any
    index: int = 0  # the next recorded result to replay
    op: Any = None  # the operation it is at (None: ask the sequencer for the next one)
    value: Any = None  # the result to send to the sequencer next


@dataclass
class World:
    schedule: Schedule
    clock: Clock = field(default_factory=Clock)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.schedule
        self.rng = random.Random(s.seed)
        self.ig = Instagram(
            self.clock, processing=s.processing, lifetime=s.lifetime, faults=list(s.faults)
        )
        self.db = MemoryDB(self.clock)
        self.writes = 0
        self.crashes = 0
        self.workers: list[Worker] = []
        self.dead: dict[str, float] = {}  # executor -> when its posts go back to the queue
        self.executions: list[Execution] = []
        for i in range(s.workers):
            self.workers.append(self._new_worker(f"w{i}"))
        self.accounts = make_accounts(s)
        self.posts = make_posts(s)

    # ---- setup ----------------------------------------------------------------------

    def _new_worker(self, name: str) -> Worker:
        executor = f"{name}-{self.rng.getrandbits(32):08x}"
        runtime = Runtime(
            clock=self.clock,
            rng=random.Random(self.rng.getrandbits(32)),
            client_factory=lambda acc, rt: self.ig.client(acc.ig_user_id, lambda: None),
            ledger=MemoryLedger(self.db),
        )
        return Worker(name, executor, runtime)

    def specs(self) -> list[Any]:
        return make_specs(self.accounts, self.posts)

    # ---- the runs -------------------------------------------------------------------

    def run(self) -> World:
        runs = self.schedule.calm_after + CALM_RUNS
        for r in range(runs):
            if r == self.schedule.calm_after:
                # Faults stop and the user runs again. A renewed token means workers
                # restarted with it (a worker that met 190 stops its account until it is
                # restarted); an account stopped by 2207006 twice is looked at again after
                # Runtime.REFRESH, so the user's next run comes that much later.
                if self.ig.revoked:
                    self.workers = [self._new_worker(w.name) for w in self.workers]
                if any(st.stopped for w in self.workers for st in w.runtime._accounts.values()):
                    self.clock.t += Runtime.REFRESH + 60.0
                self.ig.settle_down()
            elif r > 0 and self.ig.renew():  # restarted with the renewed token
                self.workers = [self._new_worker(w.name) for w in self.workers]
            queue = Enqueuer("memory", client=MemoryClient(self.db))
            if r > 0:
                queue.taken_up(due_only=False, now=self.clock.now())  # as a worker starts
            queue.enqueue(self.specs(), now=self.clock.now())  # as `publish` does
            self.until_quiet(r)
            if r >= self.schedule.calm_after and self.all_published():
                break
        return self

    def until_quiet(self, run: int) -> None:
        for _ in range(MAX_ACTIONS):
            actions = self.actions()
            if actions:
                self.perform(self.rng.choice(actions))
                continue
            later = self.next_time()
            if later is None:
                return self.quiet(run)
            self.clock.t = max(self.clock.t, later)
        raise Stuck(f"run {run} did not settle in {MAX_ACTIONS} actions")

    def quiet(self, run: int) -> None:
        waiting = [f.wid for f in self.db.flows.values() if f.status not in ("SUCCESS", "ERROR")]
        if waiting:
            raise Stuck(f"run {run} stopped with posts that never ended: {waiting}")

    # ---- actions --------------------------------------------------------------------

    def actions(self) -> list[tuple[Any, ...]]:
        now = self.clock.now()
        out: list[tuple[Any, ...]] = []
        live = [w for w in self.workers if w.alive]
        for partition in sorted({f.partition for f in self.db.flows.values()}):
            flow = self.db.next_for(partition, now)
            if flow is not None and self.db.pending(partition) < self.schedule.ahead + 1:
                out += [("dequeue", w, flow) for w in live]
        out += [("advance", e) for e in self.executions if self.ready(e)]
        out += [("restart", w) for w in self.workers if not w.alive and w.restart_at <= now]
        if live:
            out += [("recover", ex) for ex, at in self.dead.items() if at <= now]
        return out

    def next_time(self) -> float | None:
        now = self.clock.now()
        times = [f.not_before for f in self.db.flows.values() if f.status == "ENQUEUED"]
        times += [w.restart_at for w in self.workers if not w.alive]
        times += list(self.dead.values())
        times += [e.op.at for e in self.executions if isinstance(e.op, SleepUntil)]
        later = [t for t in times if t > now]
        return min(later) if later else None

    def perform(self, action: tuple[Any, ...]) -> None:
        what = action[0]
        if what == "dequeue":
            _, worker, flow = action
            flow.status, flow.executor = "PENDING", worker.executor
            self.executions.append(Execution(flow, worker, post_life(flow.spec)))
        elif what == "advance":
            self.advance(action[1])
        elif what == "restart":
            fresh = self._new_worker(action[1].name)
            self.workers[self.workers.index(action[1])] = fresh
        elif what == "recover":
            executor = action[1]
            del self.dead[executor]
            for f in self.db.flows.values():
                if f.status == "PENDING" and f.executor == executor:
                    f.status, f.executor = "ENQUEUED", None

    def crash(self, worker: Worker) -> None:
        self.crashes += 1
        TALLY["crash"] += 1
        worker.alive = False
        worker.restart_at = self.clock.now() + self.rng.uniform(1.0, 120.0)
        self.dead[worker.executor] = self.clock.now() + self.rng.choice((0.0, self.schedule.stale))
        self.executions = [e for e in self.executions if e.worker is not worker]

    # ---- one operation of one execution -----------------------------------------------

    def ready(self, e: Execution) -> bool:
        if e.op is None or e.index < len(e.flow.results):
            return True
        if isinstance(e.op, SleepUntil):
            return self.clock.now() >= e.op.at
        if isinstance(e.op, WaitTurn):
            return self.turn(e.op) is not None
        return True

    def advance(self, e: Execution) -> None:
        try:
            if e.op is None:
                if isinstance(e.value, Raised):  # as DBOS does: the step's error, re-raised
                    e.op = e.life.throw(e.value.exc)
                else:
                    e.op = e.life.send(e.value)
            flow, op = e.flow, e.op
            if e.index < len(flow.results):  # replay: the recorded result, no body runs
                result = flow.results[e.index]
            else:
                try:
                    result = self.execute(e, op)
                except Exception as exc:  # a step that raised: recorded as its error
                    result = Raised(exc)
                if result is PARKED:
                    return
                self.write(e.worker, lambda: self.record(flow, op, result))
            e.index += 1
            e.op, e.value = None, result
        except StopIteration as stop:
            self.finish(e, stop.value)
        except SimCrash:
            self.crash(e.worker)
        except Exception:  # the workflow itself raised: DBOS ends it ERROR, unsettled
            self.write(e.worker, lambda: _error(e.flow))
            self.executions.remove(e)

    def record(self, flow: Flow, op: Any, result: Any) -> None:
        flow.results.append(result)
        name = type(result).__name__
        if name == "Unseen" and "resumed" in result.why:
            name = "Unseen:resumed"
        elif name == "NotPublished":
            if result.status == "GONE":
                TALLY["NotPublished:gone"] += 1  # a container gone while settling (100/33)
            if "refused" in result.status:
                TALLY["NotPublished:refused"] += 1  # FINISHED, yet media_publish refused
            name = f"NotPublished:{'dead' if result.dead else 'finished'}"
        elif name == "Published":
            name = f"Published:{result.source}"
        elif name == "Turn" and result.state:
            name = f"Turn:{result.state}"
        TALLY[name] += 1
        if isinstance(op, Show):
            flow.events["state"] = op.view.to_dict()

    def execute(self, e: Execution, op: Any) -> Any:
        if isinstance(op, Step):
            return run_step(op.fn, e.worker.runtime, *op.args)
        if isinstance(op, Show):
            return None
        if isinstance(op, Now):
            return self.clock.now()
        if isinstance(op, Peek):
            exists, view = self.db.ended_view(op.prev)
            return turn_of(op.prev, view) if view is not None else Turn(op.prev, None)
        if isinstance(op, WaitTurn):
            turn = self.turn(op)
            return PARKED if turn is None else turn
        if isinstance(op, SleepUntil):
            return None if self.clock.now() >= op.at else PARKED
        raise TypeError(op)

    def turn(self, op: WaitTurn) -> Turn | None:
        prev = op.prev
        if op.waiter is not None:
            prev = standing_attempt(MemoryClient(self.db), op.prev, op.waiter)
        exists, view = self.db.ended_view(prev)
        if not exists:
            return Turn(prev, None)
        if view is not None:
            return turn_of(prev, view)
        shown = PostView.from_dict(self.db.flows[prev].events.get("state"))
        if shown is not None and shown.state == PostState.SCHEDULED and op.shown != shown.state:
            return turn_of(prev, shown)
        return None

    def finish(self, e: Execution, view: PostView) -> None:
        flow = e.flow
        try:
            self.write(e.worker, lambda: flow.events.update(state=view.to_dict(), settled=True))
            self.write(e.worker, lambda: _end(flow, view))
        except SimCrash:
            self.crash(e.worker)
            return
        self.executions.remove(e)
        TALLY[f"end:{view.state}"] += 1

    def write(self, worker: Worker, do: Any) -> None:
        """One recorded write, with the schedule's crash points around it."""
        self.writes += 1
        kind = None
        if not self.ig.calm:
            kind = next(
                (
                    f.kind
                    for f in self.schedule.faults
                    if f.endpoint == "write" and f.nth == self.writes
                ),
                None,
            )
        if kind == "crash_before":
            raise SimCrash()
        do()
        if kind == "crash_after":
            raise SimCrash()

    # ---- the properties -------------------------------------------------------------

    def latest(self) -> dict[str, Flow]:
        best: dict[str, Flow] = {}
        for f in self.db.flows.values():
            base = f.spec.base
            if base not in best or f.spec.attempt > best[base].spec.attempt:
                best[base] = f
        return best

    def states(self) -> dict[str, str | None]:
        """Post id -> the state its latest attempt ended in."""
        return {f.spec.post.id: (f.output or {}).get("state") for f in self.latest().values()}

    def failed_ever(self) -> set[str]:
        return {
            f.spec.post.id
            for f in self.db.flows.values()
            if (f.output or {}).get("state") in (PostState.FAILED, PostState.DUPLICATE)
        }

    def all_published(self) -> bool:
        return all(s == PostState.PUBLISHED for s in self.states().values())

    def check(self) -> None:
        check(self.ig, self.posts, self.specs(), self.states(), self.failed_ever())


@dataclass(frozen=True)
class Raised:
    exc: Exception


def _error(flow: Flow) -> None:
    flow.status, flow.executor = "ERROR", None


def _end(flow: Flow, view: PostView) -> None:
    flow.status, flow.output, flow.executor = "SUCCESS", view.to_dict(), None


def simulate(schedule: Schedule) -> World:
    """Run the schedule to its end and check the properties (AssertionError if one fails)."""
    world = World(schedule).run()
    world.check()
    return world
