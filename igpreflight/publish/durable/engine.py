"""DBOS launched in this process as a worker: the queue partitioned by account, the
heartbeat that hands a dead worker's posts back, and a clean stop.

Only `publish` (without --enqueue) and `worker` start an engine; enqueueing and
reading states go through a client (queue.py). A database that fails under a running
engine is either a lost connection (DBOS waits and reconnects; we say so once) or a
fault (a full disk): the engine remembers it and `wait` raises it as one line.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from igpreflight.publish.durable import dbos_port as port
from igpreflight.publish.durable.dbfaults import (
    DatabaseFault,
    check_postgres,
    describe,
    fault_line,
    is_connection_loss,
    where,
)
from igpreflight.publish.durable.dbos_log import quiet_dbos_log, saved_dbos_log
from igpreflight.publish.durable.queries import post_states
from igpreflight.publish.durable.queue import APP_NAME, APP_VERSION, QUEUE, QUEUE_POLL
from igpreflight.publish.durable.view import PostView
from igpreflight.publish.durable.workers import HEARTBEAT, STALE_AFTER, WorkerRegistry
from igpreflight.publish.steps.runtime import STOPPING, Runtime
from igpreflight.states import PostState

log = logging.getLogger("igpreflight.publish")
CLOSE_WAIT = 40.0  # how long `close` lets running posts unwind (a call in flight ends first)
_REGISTERED: list[Callable[..., Any]] = []
# Queues an engine of this process listens to besides the posts' own: DBOS keeps
# queues in the database and a process dequeues every one it is not told to skip,
# so a worker only takes what it can run (serve adds its jobs' queue here).
ALSO_LISTEN: list[str] = []
# DBOS is one instance a process, and so is what its workflows run with (port.Host:
# the runtime, the posts this process ran, the cancel claims). A second engine
# started by another thread (two `publish` calls of a web app at once) set its own
# runtime under the first one's running posts, then failed with DBOS's "listen_queues
# called after DBOS is launched". An engine holds this from start to close, so
# engines of one process run one after another.
ONE_AT_A_TIME = threading.Lock()


@dataclass
class Engine:
    """DBOS on `url`, this process a worker with `ahead` posts per account made ahead."""

    url: str
    ahead: int = 5
    runtime: Runtime = field(default_factory=Runtime)
    executor_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    notify: Callable[[str, str], None] = lambda level, text: None  # (level, line) for the user
    fault: str | None = None  # a database fault seen under the engine (one line)
    lost: bool = False  # the connection is lost and DBOS waits for it
    abandoned: set[str] = field(default_factory=set)  # posts stopped by a lost connection
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _registry: WorkerRegistry | None = None
    queues: tuple[str, ...] | None = None  # None: the posts' queue and ALSO_LISTEN
    _holding: bool = False  # ONE_AT_A_TIME is this engine's
    _restore_log: Callable[[], None] | None = None  # the `dbos` logger as it was

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ran(self) -> set[str]:
        """The workflows this process has run (a worker reports only these)."""
        return port.Host.ran

    def start(self) -> None:
        """Start DBOS here, once another engine of this process (another thread's
        publish) has closed. A start that fails stops what it started, so the
        process can start another engine."""
        ONE_AT_A_TIME.acquire()
        self._holding = True
        try:
            self._start()
        except BaseException as exc:
            self.close()
            if isinstance(exc, DatabaseFault) or not isinstance(exc, Exception):
                raise
            line = fault_line(exc, self.url)
            if line is None:
                raise
            raise DatabaseFault(line) from None

    def _start(self) -> None:
        check_postgres(self.url)
        DBOS = port.dbos()
        self._restore_log = saved_dbos_log()
        STOPPING.clear()
        from igpreflight.publish.durable.dbos_port import DbosLedger

        self.runtime.ledger = DbosLedger()
        port.Host.runtime = self.runtime
        port.Host.on_db_error = self._db_error
        port.Host.ran = set()
        from igpreflight.publish.durable.claims import Claims

        port.Host.claims = Claims(self.url)  # cancels (serve's DELETE /v1/posts) are seen
        if not _REGISTERED:
            _REGISTERED.append(port.register())
        self._registry = WorkerRegistry(self.url, self.executor_id)
        self._registry.beat()
        DBOS(
            config={
                "name": APP_NAME,
                "system_database_url": self.url,
                "application_version": APP_VERSION,
                "executor_id": self.executor_id,
                "log_level": "WARNING",
                "notification_listener_polling_interval_sec": 0.05,
            }
        )
        DBOS.listen_queues(list(self.queues or (QUEUE, *ALSO_LISTEN)))
        DBOS.launch()
        quiet_dbos_log(self)
        before = DBOS.retrieve_queue(QUEUE)
        # The post being published plus `ahead` posts whose containers are made ahead.
        per_account = max(0, self.ahead) + 1
        DBOS.register_queue(
            QUEUE,
            partition_concurrency=per_account,
            polling_interval_sec=QUEUE_POLL,
            on_conflict="always_update",
        )
        if before is not None and before._partition_concurrency != per_account:
            # DBOS's queue thread reads the queue's settings once per poll: let it see
            # the new --ahead before anything is dequeued.
            time.sleep(2 * QUEUE_POLL)
        t = threading.Thread(target=self._loop, name="igp-heartbeat", daemon=True)
        t.start()
        self._threads.append(t)
        self.recover()

    # ---- faults ---------------------------------------------------------------------

    def _db_error(self, exc: BaseException, wid: str = "") -> None:
        if is_connection_loss(exc):
            if wid:
                self.abandoned.add(wid)  # run again here once the database is back
            self._lost(exc)
            return
        if self.fault is None:
            self.fault = (
                fault_line(exc, self.url) or f"the database {where(self.url)} failed: {exc}"
            )

    def _lost(self, exc: BaseException) -> None:
        if not self.lost:
            self.lost = True
            self.notify(
                "warning",
                f"lost the database at {where(self.url)}; waiting for it to come back"
                " (nothing is published twice meanwhile)",
            )

    def _back(self) -> None:
        if self.lost:
            self.lost = False
            self.notify("note", f"the database at {where(self.url)} is back; going on")
        if self.abandoned:
            from dbos._dbos import _get_dbos_instance
            from dbos._utils import INTERNAL_QUEUE_NAME

            sys_db = _get_dbos_instance()._sys_db  # the instance's (DBOS._sys_db is not one)
            for wid in list(self.abandoned):  # back on its queue, where one worker takes it
                sys_db.reenqueue_for_recovery(wid, [self.executor_id], INTERNAL_QUEUE_NAME)
                self.abandoned.discard(wid)

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                assert self._registry is not None
                self._registry.beat()
                self._back()
                self.recover()
            except Exception as exc:  # the database may blink; try again next beat
                if is_connection_loss(exc):
                    self._lost(exc)
                elif describe(exc, self.url) and self.fault is None:
                    self.fault = describe(exc, self.url)
                else:
                    log.info("heartbeat failed: %s", exc)

    def recover(self) -> None:
        """Workflows of dead workers go back to the queue (one worker dequeues each)."""
        assert self._registry is not None
        dead = self._registry.dead(STALE_AFTER)
        if dead:
            DBOS = port.dbos()
            DBOS._recover_pending_workflows(dead)
            self._registry.forget([d for d in dead if not self._pending_of(d)])

    def _pending_of(self, executor: str) -> bool:
        found = port.dbos().list_workflows(
            executor_id=executor, status="PENDING", load_input=False, load_output=False, limit=1
        )
        return bool(found)

    # ---- waiting --------------------------------------------------------------------

    def states(self, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        return post_states(port.dbos(), ids)

    def wait(
        self,
        ids: Sequence[str],
        *,
        until_idle: bool = False,
        watch: Callable[[list[dict[str, Any]]], None] | None = None,
        tick: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Until every post of `ids` is settled (published, failed, duplicate, held,
        uncertain, scheduled); with `until_idle`, until nothing in the database is
        running, queued, due or scheduled. DatabaseFault when the database fails."""
        while True:
            if self.fault is not None:
                raise DatabaseFault(self.fault)
            try:
                rows = self.states(ids or None)
            except Exception as exc:
                if is_connection_loss(exc):
                    self._lost(exc)
                    time.sleep(1.0)
                    continue
                line = fault_line(exc, self.url)
                if line is None:
                    raise
                raise DatabaseFault(line) from None
            self._back()
            if watch:
                watch(rows)
            now = self.runtime.now()
            busy = [r for r in rows if not idle(r, until_idle) or due(r, now)]
            if not busy:
                return rows
            if tick:
                tick()
            time.sleep(0.1)

    # ---- stopping -------------------------------------------------------------------

    def close(self) -> None:
        """Stop DBOS in this process without waiting for sleeping posts: scheduled posts
        (and any post still running) end their wait at once, unrecorded, and stay as a
        kill leaves them; this worker is marked gone, so the next `publish` or worker
        resumes them (never twice). The process goes on, and may start another engine,
        with the `dbos` logger as it was before this one started."""
        try:
            self._close()
        finally:
            if self._restore_log is not None:  # the caller's logging, as before DBOS
                self._restore_log()
                self._restore_log = None
            if self._holding:
                self._holding = False
                ONE_AT_A_TIME.release()

    def _close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        STOPPING.set()
        if not port.ACTIVE.wait_idle(CLOSE_WAIT):
            # A post is still inside a Graph call (a long upload): stopping DBOS under it
            # could lose what that call did. The post stops at its next wait, and this
            # worker's heartbeat, no longer beating, hands it over once stale.
            log.warning("a post is still in a Graph call; it is resumed by the next run")
            return
        try:
            if self._registry is not None:
                self._registry.leave()
        except Exception as exc:  # the database is gone: the heartbeat goes stale instead
            log.info("could not mark this worker gone: %s", exc)
        finally:
            try:
                port.dbos().destroy(workflow_completion_timeout_sec=0)
            finally:
                self.runtime.close()

    def exit(self, code: int) -> None:
        """End the process now. Posts still running here are cut short exactly as a kill
        would cut them, which the workflow is built to survive; marking this worker gone
        first lets the next one take them at once."""
        self._let_settled_ends_record()
        self._stop.set()
        STOPPING.set()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            if self._registry is not None:
                self._registry.leave()
        except Exception as exc:
            log.info("could not mark this worker gone: %s", exc)
        os._exit(code)

    def _let_settled_ends_record(self, timeout: float = 3.0) -> None:
        """A run ends once every post has settled, and a settled workflow records its
        end a moment later: wait for those moments (bounded), so `status`, the
        service's webhooks and the next run read an ended attempt, not a PENDING one
        whose process is gone (which only the next worker's recovery would end, and
        which the next run then reports as published now, not earlier)."""
        ids = sorted(port.Host.ran)
        if not ids:
            return
        DBOS = port.dbos()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                found = DBOS.list_workflows(
                    workflow_ids=ids, status="PENDING", load_input=False, load_output=False
                )
                if not any(_ending(DBOS, w.workflow_id) for w in found):
                    return
                time.sleep(0.02)
        except Exception as exc:  # the database is failing: end as a kill would
            log.info("could not wait for the posts' ends: %s", exc)


def _ending(DBOS: Any, wid: str) -> bool:
    """A workflow between its last state and the record of its end: its "settled"
    event is set, or about to be (the run saw its final "state" event, written just
    before "settled", and may have stopped waiting on that)."""
    if DBOS.get_event(wid, "settled", timeout_seconds=0):
        return True
    view = PostView.from_dict(DBOS.get_event(wid, "state", timeout_seconds=0))
    return view is not None and PostState(view.state).final and not view.step


def idle(row: dict[str, Any], until_idle: bool) -> bool:
    state = row["state"]
    if state == PostState.UNCERTAIN and row.get("step"):
        return False  # being settled right now (an ended uncertain post has no step)
    if until_idle:
        return state in (
            PostState.PUBLISHED,
            PostState.FAILED,
            PostState.DUPLICATE,
            PostState.HELD,
            PostState.UNCERTAIN,
            PostState.CANCELLED,
        )
    return PostState(state).settled


def due(row: dict[str, Any], now: float) -> bool:
    """A scheduled post whose time has come is not settled: it is about to move."""
    return (
        row["state"] == PostState.SCHEDULED and bool(row.get("until_ts")) and row["until_ts"] <= now
    )
